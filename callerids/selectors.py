"""Reads for CallerIDs and the license."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
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
