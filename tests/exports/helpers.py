"""Helpers for the export tests: CallerIDs and ledger rows made with the ORM, and readers
that turn a streamed export back into cells (csv module with the BOM stripped, openpyxl)."""

import csv
import datetime
import io
from decimal import Decimal

import openpyxl

from callerids.models import AuthorizedCallerID, CallerIDStatus
from credit.models import LedgerEntry

TIME_ZONE = "Europe/Bucharest"
BOM = b"\xef\xbb\xbf"


def make_callerid(
    extension,
    number,
    *,
    at,
    available="0",
    total=None,
    unlimited=False,
    status=CallerIDStatus.ENABLED,
    reason="",
    pin=False,
):
    """A CallerID row written directly, without the services (not tests.factories) on
    purpose: the export tests write each ledger row themselves (make_entry) with its date,
    amount and balance, so an export's every cell is known; the add service would write an
    `initial` row of its own, dated now. No license or reseller counter is kept."""
    callerid = AuthorizedCallerID.objects.create(
        extension=extension,
        number=number,
        status=status,
        status_reason=reason,
        unlimited=unlimited,
        available=None if unlimited else Decimal(available),
        total=None if unlimited else Decimal(total if total is not None else available),
        pin_salt="salt" if pin else "",
        pin_hash="f" * 64 if pin else "",
    )
    AuthorizedCallerID.objects.filter(pk=callerid.pk).update(created_at=at)
    callerid.refresh_from_db()
    return callerid


def make_entry(callerid, kind, amount, balance, *, at, order="", by="alice"):
    entry = LedgerEntry.objects.create(
        callerid=callerid,
        kind=kind,
        amount=None if amount is None else Decimal(amount),
        balance_after=None if balance is None else Decimal(balance),
        order_number=order,
        actor_username=by,
    )
    LedgerEntry.objects.filter(pk=entry.pk).update(created_at=at)
    return entry


def utc(*args):
    return datetime.datetime(*args, tzinfo=datetime.UTC)


def body(response) -> bytes:
    assert response.streaming, "exports stream"
    return b"".join(response.streaming_content)


def read_csv(data: bytes, delimiter=","):
    assert data.startswith(BOM)
    text = data[len(BOM) :].decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def read_xlsx(data: bytes):
    """{sheet title: [row values]} in workbook order."""
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return {
        sheet.title: [[cell.value for cell in row] for row in sheet.iter_rows()]
        for sheet in workbook.worksheets
    }


def money(value) -> Decimal:
    """An amount openpyxl read back (it hands out floats) as the exact 4-decimal Decimal."""
    return Decimal(str(value)).quantize(Decimal("0.0001"))
