"""Reads for CallerIDs and the license."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse

from callerids.models import AuthorizedCallerID, License
from tenancy import scoping
from tenancy.models import Reseller


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
    return callerid_lock(AuthorizedCallerID.objects.all() if scope is None else scope).get(pk=pk)


def callerid_lock(scope: QuerySet[AuthorizedCallerID]) -> QuerySet[AuthorizedCallerID]:
    """`scope` under the CallerID lock: lock_callerid runs it; the PBX's call report
    prepares it once as a statement (credit.services.calls)."""
    return scope.select_for_update(of=("self",))


# Room left under the license (SPEC §2, §4): read from the counters, never by counting rows.


@dataclass(frozen=True)
class Room:
    """How many more CallerIDs may be enabled: the server's room and, for a reseller with a
    share of its own, that share's. The one statement of the rule: every page, the import
    and every status change (callerids.services.license.CounterLocks) ask a Room, made by
    room_of().

    server_wide: the user may see the server's figures (admins, server-wide staff); `used`
    and `maximum` are None otherwise (reseller-bound users never see server figures).
    """

    server_used: int
    server_maximum: int
    reseller_name: str = ""
    reseller_used: int = 0
    reseller_maximum: int | None = None  # None: no share of its own (or no reseller)
    server_wide: bool = False

    @property
    def server_left(self) -> int:
        return max(0, self.server_maximum - self.server_used)

    @property
    def reseller_left(self) -> int | None:
        if self.reseller_maximum is None:
            return None
        return max(0, self.reseller_maximum - self.reseller_used)

    @property
    def left(self) -> int:
        """K: how many more may be enabled now (never negative)."""
        if self.reseller_left is None:
            return self.server_left
        return min(self.server_left, self.reseller_left)

    @property
    def used(self) -> int | None:
        return self.server_used if self.server_wide else None

    @property
    def maximum(self) -> int | None:
        return self.server_maximum if self.server_wide else None

    @property
    def text(self) -> str:
        if self.server_wide:
            return (
                f"{self.server_used} of {self.server_maximum} active authorized CallerIDs "
                "used on this server"
            )
        return f"You can add {self.left} more"

    def server_refusal(self, added: int, *, verb: str) -> str:
        """The refusal of `added` more on the server ("Enabling 50 would exceed the license
        by 40."), or "" when they fit. A license lowered below the count refuses any."""
        excess = self.server_used + added - self.server_maximum
        if added > 0 and excess > 0:
            return f"{verb} {added} would exceed the license by {excess}."
        return ""

    def share_refusal(self, added: int, *, verb: str) -> str:
        """The refusal of `added` more within the reseller's share, or "" when they fit."""
        if added <= 0 or self.reseller_maximum is None:
            return ""
        excess = self.reseller_used + added - self.reseller_maximum
        if excess > 0:
            return (
                f"{verb} {added} would exceed the share of the license of "
                f"{self.reseller_name} by {excess}."
            )
        return ""

    def as_dict(self) -> dict:
        """The room as an import report keeps it."""
        return {
            "server_left": self.server_left,
            "reseller_left": self.reseller_left,
            "reseller_name": self.reseller_name,
            "left": self.left,
        }


def room_of(license: License, reseller=None, *, server_wide: bool = False) -> Room:
    """The room under `license` (the License row) and, with `reseller` (a Reseller row),
    under its share: the one function every room and every license refusal comes from."""
    if reseller is None:
        return Room(
            server_used=license.active_callerids,
            server_maximum=license.max_active_callerids,
            server_wide=server_wide,
        )
    return Room(
        server_used=license.active_callerids,
        server_maximum=license.max_active_callerids,
        reseller_name=reseller.name,
        reseller_used=reseller.active_callerids,
        reseller_maximum=reseller.max_active_callerids,
        server_wide=server_wide,
    )


# For a user without a role: nothing may be added.
NO_ROOM = Room(server_used=0, server_maximum=0)


def _fresh_reseller(reseller):
    """The Reseller row of `reseller` (a Reseller or its id) with freshly read counters."""
    reseller_id = getattr(reseller, "pk", reseller)
    if reseller_id is None:
        return None
    return (
        Reseller.objects.filter(pk=reseller_id)
        .only("name", "max_active_callerids", "active_callerids")
        .first()
    )


def room_for_reseller(reseller) -> int:
    """K for one reseller (a Reseller or its id; None = no reseller): the smaller of the
    server's room and the reseller's own share, from freshly read counters."""
    return room_of(get_license(), _fresh_reseller(reseller)).left


def room_left(user, *, reseller=None) -> Room:
    """The room line of the CallerIDs pages for `user` (admins/server-wide staff: N of M
    used on the server; resellers and their staff: K more). Users without a role: 0.

    `reseller` (a loaded Reseller row, e.g. the extension's): server-wide users' room
    also within its share; reseller-bound users always get their own reseller's."""
    if scoping.role_of(user) is None:
        return NO_ROOM
    if scoping.is_server_wide(user):
        return room_of(get_license(), reseller, server_wide=True)
    return room_of(get_license(), _fresh_reseller(scoping.reseller_id_of(user)))


def callerid_data(callerid_id: int, *, balance: Decimal | None) -> dict:
    """The CallerID part of an event's payload (notifications sits below callerids: the
    services that emit events pass this to it)."""
    callerid = (
        AuthorizedCallerID.objects.select_related("extension__organization")
        .only("number", "extension__number", "extension__organization__name")
        .get(pk=callerid_id)
    )
    path = reverse("credit:callerid_credit", args=[callerid_id])
    return {
        "callerid": {
            "id": callerid_id,
            "number": callerid.number,
            "extension": callerid.extension.number,
            "organization": callerid.extension.organization.name,
        },
        "balance": None if balance is None else str(balance),
        "unlimited": balance is None,
        "link": settings.PUBLIC_BASE_URL + path,
    }
