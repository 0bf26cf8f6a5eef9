"""Demo authorized CallerIDs for `manage.py seed_demo` (idempotent).

Every callback extension in the "authorized" return mode that has no CallerIDs yet gets a
few, through the services (so the license counters, ledger and audit log are right): with
and without a PIN, Unlimited (only where the reseller may grant it), no credit left, a
short internal number, one disabled and one removed.
"""

from __future__ import annotations

from decimal import Decimal

from callback.models import CallbackExtension, ReturnMode
from callerids.models import AuthorizedCallerID
from callerids.services.callerids import add_callerids, disable_callerid, remove_callerid
from callerids.services.validation import NewCallerID
from tenancy.audit import SYSTEM
from values.errors import DomainError


def _rows(index: int, may_grant_unlimited: bool) -> list[NewCallerID]:
    base = f"+4072{index % 10}000"  # Romanian mobile numbers, distinct per extension
    return [
        NewCallerID(f"{base}101", pin="1234", credit=Decimal("25.00"), order_number="DEMO-1"),
        NewCallerID(f"{base}102", unlimited=True)
        if may_grant_unlimited
        else NewCallerID(f"{base}102", credit=Decimal("100"), order_number="DEMO-2"),
        NewCallerID(f"{base}103", pin="5678", credit=Decimal("0")),
        NewCallerID(f"12{index % 10}4", credit=Decimal("10.50")),
        NewCallerID(f"{base}105", credit=Decimal("5")),
        NewCallerID(f"{base}106", pin="2468", credit=Decimal("3.25")),
    ]


def seed(stdout) -> None:
    extensions = CallbackExtension.objects.filter(return_mode=ReturnMode.AUTHORIZED).select_related(
        "organization__reseller"
    )
    added = 0
    for index, extension in enumerate(extensions.order_by("id")):
        if AuthorizedCallerID.objects.filter(extension=extension).exists():
            continue
        reseller = extension.organization.reseller
        try:
            result = add_callerids(
                actor=SYSTEM,
                extension=extension,
                rows=_rows(index, reseller.may_grant_unlimited),
            )
        except DomainError as exc:
            stdout.write(f"  {extension.number}: no demo CallerIDs ({' '.join(exc.messages)})")
            continue
        *_, disabled, removed = result.callerids
        disable_callerid(actor=SYSTEM, callerid=disabled)
        remove_callerid(actor=SYSTEM, callerid=removed)
        added += len(result.callerids)
    stdout.write(f"Authorized CallerIDs: {added} created.")
