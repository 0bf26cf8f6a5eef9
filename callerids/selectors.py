"""Reads for CallerIDs and the license."""

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from callerids.models import AuthorizedCallerID, License


def get_license() -> License:
    """The license row; created from LICENSE_MAX_ACTIVE_CALLERIDS the first time only."""
    try:
        return License.objects.get(pk=1)
    except License.DoesNotExist:
        try:
            with transaction.atomic():
                return License.objects.create(
                    pk=1, max_active_callerids=settings.LICENSE_MAX_ACTIVE_CALLERIDS
                )
        except IntegrityError:
            return License.objects.get(pk=1)


def lock_license() -> License:
    """The license row, locked until the end of the caller's transaction."""
    get_license()
    return License.objects.select_for_update().get(pk=1)


def lock_callerid(pk: int, *, scope: QuerySet[AuthorizedCallerID] | None = None):
    """The CallerID lock, the only one: its row, locked until the caller's transaction ends
    (FOR UPDATE of the CallerID's own row only, never of the rows `scope` joins).

    `scope`: a queryset of CallerIDs to find it in (AuthorizedCallerID.DoesNotExist when
    it is not there); all of them by default. In the project's lock order it comes after
    the License and Reseller rows (callerids.services.license) and before anything that
    hangs from the CallerID (its holds, its ledger).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_callerid must run inside transaction.atomic()")
    found = AuthorizedCallerID.objects.all() if scope is None else scope
    return found.select_for_update(of=("self",)).get(pk=pk)


# Room left under the license (SPEC §4): read from the counters, never by counting rows.


@dataclass(frozen=True)
class Room:
    """How many more CallerIDs may be enabled, as the user may know it.

    left: K, how many more may be enabled now (never negative).
    used/maximum: the server's count and license, only for admins and server-wide staff
    (None for reseller-bound users, who never see server figures).
    """

    left: int
    used: int | None = None
    maximum: int | None = None

    @property
    def server_wide(self) -> bool:
        return self.maximum is not None

    @property
    def text(self) -> str:
        if self.server_wide:
            return f"{self.used} of {self.maximum} active authorized CallerIDs used on this server"
        return f"You can add {self.left} more"


def room_for_reseller(reseller) -> int:
    """K for one reseller (a Reseller or its id; None = no reseller): the smaller of the
    server's room and the reseller's own share, from freshly read counters."""
    from callback.models import Reseller

    license = get_license()
    left = max(0, license.max_active_callerids - license.active_callerids)
    reseller_id = getattr(reseller, "pk", reseller)
    if reseller_id is not None:
        share = (
            Reseller.objects.filter(pk=reseller_id)
            .values_list("max_active_callerids", "active_callerids")
            .first()
        )
        if share is not None and share[0] is not None:
            left = min(left, max(0, share[0] - share[1]))
    return left


def room_left(user) -> Room:
    """The room line of the CallerIDs pages for `user` (admins/server-wide staff: N of M
    used on the server; resellers and their staff: K more). Users without a role: 0."""
    from callback import scoping

    if scoping.role_of(user) is None:
        return Room(left=0)
    if scoping.is_server_wide(user):
        license = get_license()
        return Room(
            left=max(0, license.max_active_callerids - license.active_callerids),
            used=license.active_callerids,
            maximum=license.max_active_callerids,
        )
    return Room(left=room_for_reseller(scoping.reseller_id_of(user)))
