"""The license counters (SPEC §2, §4): only ENABLED CallerIDs count, on the server and
against their reseller's share, and the counters change in the same transaction as the
statuses.

Lock order, the same in every transaction that changes a CallerID's status (so two of
them can never wait for each other): the License row, then the Reseller rows in id
order, then the CallerID rows in id order. `lock_for_status_change` takes all three.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet

from callerids.models import AuthorizedCallerID, CallerIDStatus, License
from callerids.selectors import lock_license, room_of
from tenancy.audit import Actor, record, snapshot
from tenancy.models import MAX_LICENSE, Reseller
from values.errors import DomainError, LicenseExceeded

ENABLED = CallerIDStatus.ENABLED


@dataclass
class CounterLocks:
    """The locked License row and Reseller rows, and the change each counter will get."""

    license: License
    resellers: dict[int, Reseller]
    deltas: dict[int, int] = field(default_factory=dict)  # reseller id -> change

    def add(self, reseller_id: int, delta: int) -> None:
        self.deltas[reseller_id] = self.deltas.get(reseller_id, 0) + delta

    def status_changed(self, reseller_id: int, old: str, new: str) -> None:
        """Record one CallerID going from status `old` to `new`."""
        self.add(reseller_id, (new == ENABLED) - (old == ENABLED))

    def check_room(self, *, verb: str) -> None:
        """LicenseExceeded when the recorded increase passes the server or a reseller's cap
        (the refusals of callerids.selectors.Room, the one room rule).

        Only increases are checked: lowering the license below the count keeps existing
        CallerIDs enabled and refuses new activations.
        """
        refusal = room_of(self.license).server_refusal(sum(self.deltas.values()), verb=verb)
        for reseller_id, delta in sorted(self.deltas.items()):
            if refusal:
                break
            room = room_of(self.license, self.resellers[reseller_id])
            refusal = room.share_refusal(delta, verb=verb)
        if refusal:
            raise LicenseExceeded(refusal)

    def save(self) -> None:
        """Write the counters as absolute values (computed under the locks)."""
        total = sum(self.deltas.values())
        if total:
            self.license.active_callerids = max(0, self.license.active_callerids + total)
            License.objects.filter(pk=self.license.pk).update(
                active_callerids=self.license.active_callerids
            )
        for reseller_id, delta in self.deltas.items():
            if not delta:
                continue
            reseller = self.resellers[reseller_id]
            reseller.active_callerids = max(0, reseller.active_callerids + delta)
            Reseller.objects.filter(pk=reseller_id).update(
                active_callerids=reseller.active_callerids
            )
        self.deltas.clear()


def lock_counters(reseller_ids: Iterable[int]) -> CounterLocks:
    """Lock the License row, then the given Reseller rows in id order (inside atomic)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_counters must run inside transaction.atomic()")
    license = lock_license()
    # ORDER BY before FOR UPDATE: PostgreSQL locks the rows in this order. NO KEY UPDATE:
    # still one counter change at a time, but it lets a transaction that holds a CallerID
    # row (a recharge, an edit) insert its audit row pointing at the reseller (PostgreSQL's
    # foreign-key check takes FOR KEY SHARE on it); FOR UPDATE would deadlock with it while
    # we wait for that CallerID.
    resellers = Reseller.objects.select_for_update(no_key=True).filter(pk__in=set(reseller_ids))
    return CounterLocks(license=license, resellers={r.pk: r for r in resellers.order_by("pk")})


def lock_for_status_change(
    *, ids: Iterable[int], scope: QuerySet[AuthorizedCallerID]
) -> tuple[CounterLocks, list[AuthorizedCallerID]]:
    """Lock License → Resellers → CallerIDs (id order) for the CallerIDs of `ids` in `scope`.

    Ids outside `scope` are left out (they change nothing). Each returned CallerID carries
    `reseller_id` (its reseller's id) and `reseller` (the locked Reseller row). Must run
    inside the caller's transaction.atomic(). Also for other modules that change a
    status, e.g. the PIN lockout: take these locks first, never the CallerID row first.
    """
    ids = list(ids)
    # A CallerID never moves to another extension, so reading its reseller before the
    # locks is safe.
    reseller_of = dict(
        scope.filter(pk__in=ids).values_list("pk", "extension__organization__reseller_id")
    )
    counters = lock_counters(reseller_of.values())
    callerids = list(
        AuthorizedCallerID.objects.select_for_update().filter(pk__in=reseller_of).order_by("pk")
    )
    for callerid in callerids:
        callerid.reseller_id = reseller_of[callerid.pk]
        callerid.reseller = counters.resellers[callerid.reseller_id]
    return counters, callerids


LICENSE_FIELDS = ["max_active_callerids"]


@dataclass(frozen=True)
class LicenseUpdate:
    license: object
    below_active_count: bool  # the new maximum is under the CallerIDs already enabled


def update_license(*, actor: Actor, max_active_callerids: int) -> LicenseUpdate:
    """Set the maximum of active authorized CallerIDs on the server.

    Lowering it below the active count is allowed: the CallerIDs already enabled stay
    enabled, only new activations are refused (the result says so). Raises DomainError
    for a negative or absurd value.
    """
    if max_active_callerids is None or not 0 <= max_active_callerids <= MAX_LICENSE:
        raise DomainError(
            {"max_active_callerids": f"Enter a maximum between 0 and {MAX_LICENSE:,}."}
        )
    with transaction.atomic():
        # The counter on this row moves with every CallerID status change: lock it so the
        # maximum and the count we compare it with are the ones committed together.
        license = lock_license()
        before = snapshot(license, LICENSE_FIELDS)
        license.max_active_callerids = max_active_callerids
        license.save(update_fields=["max_active_callerids", "updated_at"])
        after = snapshot(license, LICENSE_FIELDS)
        if after != before:
            record(actor=actor, action="license.update", obj=license, before=before, after=after)
    return LicenseUpdate(
        license=license, below_active_count=max_active_callerids < license.active_callerids
    )
