"""Objects for tests, made through the product's services, so every object a test makes is
one the product could make: a CallerID has its `initial` ledger row and counts in the
license and its reseller's totals, a reseller and a user have their audit events, a token
has its hashed secret.

This module is the one place the tests' set-up imports the services from; a test that
needs a state the services cannot make (a broken ledger for check_ledger, rows written in
bulk for a speed test) builds it itself and says why.
"""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from callback.services.extensions import ExtensionSetup, create_extension
from callerids.importing import background as importing
from callerids.models import AuthorizedCallerID, CallerIDStatus
from callerids.services.callerids import add_callerids, disable_callerid, remove_callerid
from callerids.services.validation import NewCallerID
from credit.models import LedgerEntry
from credit.services.calls import CallReport, report_call
from credit.services.holds import CallStart, start_call
from credit.services.recharge import add_credit
from notifications.selectors import settings_for
from notifications.services import send_test_event, update_settings
from tenancy.audit import SYSTEM, Actor
from tenancy.models import Role
from tenancy.services.tenancy import create_organization, create_reseller, create_user
from tenancy.services.tokens import create_token

PASSWORD = "correct-horse-battery-staple"
ADMIN, RESELLER, STAFF = Role.ADMIN, Role.RESELLER, Role.STAFF
ENABLED = CallerIDStatus.ENABLED
DISABLED = CallerIDStatus.DISABLED
REMOVED = CallerIDStatus.REMOVED
_call_ids = itertools.count(1)


def as_user(user) -> Actor:
    """The actor of a change made by `user` in the panel (the system when None)."""
    return SYSTEM if user is None else Actor(user=user)


# --- tenancy ---------------------------------------------------------------------------


def reseller(
    name: str = "Reseller A",
    *,
    may_grant_unlimited: bool = False,
    max_active_callerids: int | None = None,
    active: bool = True,
    by=None,
):
    return create_reseller(
        actor=as_user(by),
        name=name,
        max_active_callerids=max_active_callerids,
        may_grant_unlimited=may_grant_unlimited,
        active=active,
    )


def organization(reseller, name: str = "Org A1", *, active: bool = True, by=None):
    return create_organization(actor=as_user(by), reseller=reseller, name=name, active=active)


def user(username: str, role: str, reseller=None, *, password: str = PASSWORD, by=None):
    """A user with one role: ADMIN (no reseller), RESELLER (a reseller), STAFF (optional)."""
    return create_user(
        actor=as_user(by), username=username, password=password, role=role, reseller=reseller
    )


def admin(username: str = "admin"):
    return user(username, ADMIN)


def reseller_user(reseller, username: str = "alice"):
    return user(username, RESELLER, reseller)


def staff(reseller=None, username: str = "sam"):
    """Staff of one reseller, or server-wide staff when reseller is None."""
    return user(username, STAFF, reseller)


# --- callback extensions ---------------------------------------------------------------


def extension(organization, number: str = "0003*001", name: str = "", *, by, **setup):
    """A callback extension made by `by` (an admin, or the organization's reseller: the
    only users the product lets create one). setup: any ExtensionSetup field."""
    return create_extension(
        actor=as_user(by),
        organization=organization,
        setup=ExtensionSetup(number=number, name=name, **setup),
    )


# --- CallerIDs and credit --------------------------------------------------------------


def callerids(
    extension,
    *numbers: str,
    credit: Decimal | str | None = None,
    unlimited: bool = False,
    pin: str = "",
    order_number: str = "",
    by=None,
) -> list[AuthorizedCallerID]:
    """Enabled CallerIDs added at once, as the add form does: each with its `initial`
    ledger row, counted in the license and the reseller's share."""
    credit = None if credit is None else Decimal(credit)
    rows = [
        NewCallerID(number, pin=pin, credit=credit, unlimited=unlimited, order_number=order_number)
        for number in numbers
    ]
    return add_callerids(actor=as_user(by), extension=extension, rows=rows).callerids


def callerid(
    extension,
    number: str = "+40721000123",
    *,
    credit: Decimal | str | None = Decimal("10"),
    unlimited: bool = False,
    pin: str = "",
    order_number: str = "",
    status: str = ENABLED,
    at: datetime.datetime | None = None,
    by=None,
) -> AuthorizedCallerID:
    """One CallerID through the CallerID services: added (enabled, `initial` ledger row),
    then disabled or removed when `status` says so.

    at: when it was added (for tests of dates): the CallerID and its initial ledger row are
    dated then, as if the add had happened at that time.
    """
    made = callerids(
        extension,
        number,
        credit=None if unlimited else credit,
        unlimited=unlimited,
        pin=pin,
        order_number=order_number,
        by=by,
    )[0]
    if status == DISABLED:
        disable_callerid(actor=as_user(by), callerid=made)
    elif status == REMOVED:
        remove_callerid(actor=as_user(by), callerid=made)
    if at is not None:
        with transaction.atomic():
            AuthorizedCallerID.objects.filter(pk=made.pk).update(created_at=at)
            LedgerEntry.objects.filter(callerid=made).update(created_at=at)
    made.refresh_from_db()
    return made


def recharge(
    callerid,
    amount: Decimal | str | None = None,
    *,
    unlimited: bool = False,
    order_number: str = "",
    by=None,
):
    """Add credit (a negative amount removes some) or make it Unlimited, as the credit
    page does; returns the service's result."""
    amount = None if amount is None else Decimal(amount)
    return add_credit(
        actor=as_user(by),
        callerid=callerid,
        amount=amount,
        unlimited=unlimited,
        order_number=order_number,
    )


# --- the PBX API's side: tokens, calls ------------------------------------------------


def token(reseller=None, name: str = "pbx1", permissions=("pbx",), *, by=None):
    """A new API token (whole server when reseller is None): the service's NewToken, with
    `.token` (the row) and `.plaintext` (shown once)."""
    return create_token(
        actor=as_user(by), name=name, reseller=reseller, permissions=list(permissions)
    )


def call_start(
    pbx_token,
    extension,
    callerid=None,
    *,
    destination: str = "+4031555999",
    rate_per_minute: Decimal | str = "0.10",
    call_id: str | None = None,
    now: datetime.datetime | None = None,
):
    """The PBX asks to connect a call (calls/start): a hold on the CallerID's credit when
    admitted. pbx_token: an ApiToken row. Returns the service's StartOutcome."""
    start = CallStart(
        call_id=call_id or f"call-{next(_call_ids)}",
        extension=extension.number,
        callerid_id=None if callerid is None else callerid.pk,
        destination=destination,
        rate_per_minute=Decimal(rate_per_minute),
    )
    return start_call(token=pbx_token, start=start, now=now)


def call(
    pbx_token,
    extension,
    callerid=None,
    *,
    cost: Decimal | str = "1",
    duration_seconds: int = 60,
    destination: str = "+4031555999",
    caller_id: str = "",
    started_at: datetime.datetime | None = None,
    call_id: str | None = None,
):
    """A finished call as the PBX reports it (calls), charged to `callerid` (unmetered
    when None). pbx_token: an ApiToken row. Returns the service's CallOutcome."""
    report = CallReport(
        call_id=call_id or f"call-{next(_call_ids)}",
        extension=extension.number,
        callerid_id=None if callerid is None else callerid.pk,
        caller_id=caller_id or (callerid.number if callerid is not None else "0721999999"),
        destination=destination,
        started_at=started_at or timezone.now(),
        duration_seconds=duration_seconds,
        cost=None if cost is None else Decimal(cost),
    )
    return report_call(token=pbx_token, report=report, actor=Actor(token=pbx_token))


# --- imports and notifications ---------------------------------------------------------


def import_job(extension, content: bytes = b"+40721000777,,5\n", *, by, separator: str = ","):
    """A CallerID file uploaded by `by` for its Check (the suite runs tasks at once, so
    the job is checked when this returns). Its uploader and administrators may see it;
    only its uploader confirms or retries it."""
    return importing.upload(
        actor=as_user(by),
        extension=extension,
        content=content,
        file_name="numbers.csv",
        separator=separator,
    )


def delivery(reseller=None, *, emails=("ops@example.com",), by=None):
    """A delivery of a test notification to `reseller`'s channels (the server's when None),
    as its notifications page's "Send a test" makes it."""
    row = update_settings(
        actor=as_user(by),
        row=settings_for(reseller),
        low_credit_threshold=None,
        emails=list(emails),
        webhook_url="",
    )
    event = send_test_event(actor=as_user(by), row=row)
    return event.deliveries.get(settings=row)
