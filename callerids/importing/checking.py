"""The rules of an import line and of the whole file (SPEC §5.2), shared by Check and Confirm.

`evaluate` turns raw lines into good rows (numbers normalized, PINs hashed, credits parsed)
and bad lines with their reasons; `find_existing` adds "already on this extension" with one
query per chunk of numbers; `room_problem` words the license room (callerids.selectors.Room)
for the whole file; `build_report` makes the JSON report the pages show.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection

from callerids.importing.reading import RawLine
from callerids.models import AuthorizedCallerID, CallerIDStatus
from callerids.pins import hash_pin, is_valid_pin
from callerids.selectors import Room
from values.money import ORDER_NUMBER_MAX, parse_amount, quantize4
from values.phone import InvalidNumber, normalize_number

PREVIEW_ROWS = 20
UNLIMITED_WORDS = frozenset({"u", "unlimited"})


@dataclass(frozen=True)
class Context:
    """What the rules of a line depend on besides the line itself."""

    default_country: str
    decimals: int
    may_grant_unlimited: bool
    currency: str = ""  # only for the wording of messages

    def as_dict(self) -> dict:
        return {
            "default_country": self.default_country,
            "decimals": self.decimals,
            "may_grant_unlimited": self.may_grant_unlimited,
            "currency": self.currency,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Context:
        return cls(
            default_country=data.get("default_country", ""),
            decimals=int(data.get("decimals", 2)),
            may_grant_unlimited=bool(data.get("may_grant_unlimited", False)),
            currency=data.get("currency", ""),
        )


@dataclass(slots=True)
class Row:
    """A good line, ready to be saved. The PIN is already hashed: no plain PIN is kept."""

    line: int
    raw_number: str
    number: str
    pin_salt: str
    pin_hash: str
    order: str
    credit_text: str
    credit: Decimal | None = None
    unlimited: bool = False


@dataclass
class Evaluation:
    rows: list[Row]
    errors: dict[int, list[str]]
    # The first lines of the file, good or bad, for the preview (errors are merged later).
    preview: list[dict] = field(default_factory=list)
    # Confirm: how many numbers normalize differently than at Check.
    renumbered: int = 0

    def drop_bad_rows(self) -> None:
        self.rows = [row for row in self.rows if row.line not in self.errors]


class LineError(ValueError):
    pass


def credit_of(text: str, context: Context) -> tuple[Decimal | None, bool]:
    """(amount, unlimited) for a credit field; LineError with the reason otherwise."""
    word = text.strip().lower()
    if word in UNLIMITED_WORDS or not word:
        if context.may_grant_unlimited:
            return None, True
        if not word:
            raise LineError("Bad credit: empty. Enter an amount (you may not grant Unlimited).")
        raise LineError("Bad credit: you may not grant Unlimited.")
    try:
        amount = parse_amount(
            word, decimals=context.decimals, field="initial credit", currency=context.currency
        )
    except ValidationError as exc:
        raise LineError(f"Bad credit: {exc.messages[0]}") from None
    return quantize4(amount), False


def _number_of(raw: str, context: Context) -> str:
    try:
        return normalize_number(raw, context.default_country or None)
    except InvalidNumber as exc:
        raise LineError(f"Bad number: {exc}") from None


def _preview_item(raw: RawLine, row: Row | None) -> dict:
    if row is None:
        return {
            "line": raw.line,
            "number": raw.number,
            "pin": bool(raw.pin),
            "order": raw.order,
            "credit": raw.credit,
            "unlimited": False,
            "parsed": False,
        }
    return {
        "line": row.line,
        "number": row.number,
        "pin": bool(row.pin_hash),
        "order": row.order,
        "credit": None if row.unlimited else str(row.credit),
        "unlimited": row.unlimited,
        "parsed": True,
    }


def evaluate(lines: list[RawLine], context: Context) -> Evaluation:
    """Apply every rule of a single line, then "duplicate inside the file"."""
    rows: list[Row] = []
    errors: dict[int, list[str]] = {}
    preview: list[dict] = []
    for raw in lines:
        reasons: list[str] = []
        row = None
        if raw.problem:
            reasons.append(raw.problem)
        else:
            number = credit = None
            unlimited = False
            try:
                number = _number_of(raw.number, context)
            except LineError as exc:
                reasons.append(str(exc))
            if raw.pin and raw.pin_numeric and len(raw.pin) < 4:
                reasons.append(
                    f"Bad PIN: {raw.pin} came from a number cell and lost its leading zeros: "
                    "store the PIN column as text."
                )
            elif raw.pin and not is_valid_pin(raw.pin):
                reasons.append("Bad PIN: a PIN has 4 to 10 digits.")
            if len(raw.order) > ORDER_NUMBER_MAX:
                reasons.append(f"Bad order number: at most {ORDER_NUMBER_MAX} characters.")
            try:
                credit, unlimited = credit_of(raw.credit, context)
            except LineError as exc:
                reasons.append(str(exc))
            if not reasons:
                salt, digest = hash_pin(raw.pin) if raw.pin else ("", "")
                row = Row(
                    raw.line,
                    raw.number,
                    number,
                    salt,
                    digest,
                    raw.order,
                    raw.credit,
                    credit,
                    unlimited,
                )
                rows.append(row)
        if reasons:
            errors[raw.line] = reasons
        if len(preview) < PREVIEW_ROWS:
            preview.append(_preview_item(raw, row))
    evaluation = Evaluation(rows=rows, errors=errors, preview=preview)
    _mark_duplicates(evaluation)
    return evaluation


def reevaluate(rows: list[Row], *, checked_with: Context, context: Context) -> Evaluation:
    """The rules again for rows that were good at Check, under today's context.

    Numbers are normalized again only if the default country changed (the normalization
    depends on nothing else); credits are parsed again (decimals, Unlimited permission).
    """
    renormalize = checked_with.default_country != context.default_country
    errors: dict[int, list[str]] = {}
    good: list[Row] = []
    renumbered = 0
    for row in rows:
        reasons = []
        if renormalize:
            try:
                number = _number_of(row.raw_number, context)
            except LineError as exc:
                reasons.append(str(exc))
            else:
                renumbered += number != row.number
                row.number = number
        try:
            row.credit, row.unlimited = credit_of(row.credit_text, context)
        except LineError as exc:
            reasons.append(str(exc))
        if reasons:
            errors[row.line] = reasons
        else:
            good.append(row)
    evaluation = Evaluation(rows=good, errors=errors, renumbered=renumbered)
    _mark_duplicates(evaluation)
    return evaluation


def _mark_duplicates(evaluation: Evaluation) -> None:
    first_line: dict[str, int] = {}
    for row in evaluation.rows:
        seen = first_line.setdefault(row.number, row.line)
        if seen != row.line:
            evaluation.errors.setdefault(row.line, []).append(
                f"Duplicate inside the file: the same number as line {seen} ({row.number})."
            )
    evaluation.drop_bad_rows()


def _existing_numbers(extension_id: int, numbers: list[str]) -> set[str]:
    """Which of `numbers` are on the extension and not removed: one query per chunk."""
    existing: set[str] = set()
    if connection.vendor == "postgresql":
        # One array parameter per chunk: no per-value query building at 100,000 numbers.
        table = connection.ops.quote_name(AuthorizedCallerID._meta.db_table)
        sql = (
            f"SELECT number FROM {table} WHERE extension_id = %s AND status <> %s "
            "AND number = ANY(%s)"
        )
        with connection.cursor() as cursor:
            for start in range(0, len(numbers), 20_000):
                chunk = numbers[start : start + 20_000]
                cursor.execute(sql, [extension_id, CallerIDStatus.REMOVED.value, chunk])
                existing.update(row[0] for row in cursor.fetchall())
        return existing
    # SQLite counts each bound value against its parameter cap.
    size = min(2000, (connection.features.max_query_params or 2001) - 1)
    live = AuthorizedCallerID.objects.filter(extension_id=extension_id).exclude(
        status=CallerIDStatus.REMOVED
    )
    for start in range(0, len(numbers), size):
        existing.update(
            live.filter(number__in=numbers[start : start + size]).values_list("number", flat=True)
        )
    return existing


def find_existing(evaluation: Evaluation, *, extension_id: int) -> None:
    """Mark rows whose number is already on the extension (not removed)."""
    existing = _existing_numbers(extension_id, [row.number for row in evaluation.rows])
    if not existing:
        return
    for row in evaluation.rows:
        if row.number in existing:
            evaluation.errors.setdefault(row.line, []).append(
                f"Already on this extension: {row.number}."
            )
    evaluation.drop_bad_rows()


def room_problem(needed: int, room: Room) -> str:
    """The Check's "no license room" reason for the whole file, or "" (the room is the one
    rule's, callerids.selectors.room_of; Confirm refuses through CounterLocks.check_room)."""
    if needed <= room.left:
        return ""
    where = [f"the server has {room.server_left:,} left"]
    if room.reseller_left is not None:
        where.append(f"the share of {room.reseller_name} has {room.reseller_left:,} left")
    return (
        f"No license room: the file adds {needed:,} CallerIDs but only {room.left:,} more "
        f"can be added ({'; '.join(where)})."
    )


# A report keeps this many bad lines (the first ones) and their count; the job keeps the
# whole list, compressed, for the CSV download.
REPORT_ERRORS_MAX = 1000


def bad_lines(evaluation: Evaluation) -> list[dict]:
    """Every bad line of an evaluation, in file order: {"line": n, "message": reasons}."""
    return [
        {"line": line, "message": " ".join(reasons)}
        for line, reasons in sorted(evaluation.errors.items())
    ]


def pack_bad_lines(errors: list[dict]) -> bytes:
    """The whole list when the report could not hold it; empty otherwise."""
    if len(errors) <= REPORT_ERRORS_MAX:
        return b""
    return zlib.compress(json.dumps(errors, separators=(",", ":")).encode(), 1)


def unpack_bad_lines(blob: bytes, report: dict) -> list[dict]:
    if not blob:
        return report.get("errors", [])
    return json.loads(zlib.decompress(bytes(blob)))


def build_report(
    *,
    evaluation: Evaluation,
    room: Room,
    file_name: str,
    file_format: str,
    header: bool,
    lines: int,
    context: Context,
    room_error: str | None = None,
) -> dict:
    """The JSON report of a check: counts, totals, the first lines, the first
    REPORT_ERRORS_MAX bad lines and how many there are. `room_error`: the license's
    refusal when the caller asked the rule itself (Confirm), else the Check's wording."""
    rows = evaluation.rows
    total_credit = sum((row.credit for row in rows if not row.unlimited), Decimal(0))
    errors = bad_lines(evaluation)
    preview = []
    for item in evaluation.preview:
        reasons = evaluation.errors.get(item["line"])
        preview.append({**item, "error": " ".join(reasons) if reasons else ""})
    if room_error is None:
        room_error = room_problem(len(rows), room)
    return {
        "file_name": file_name,
        "format": file_format,
        "header": header,
        "lines": lines,
        "count": len(rows),
        "unlimited": sum(1 for row in rows if row.unlimited),
        "with_pin": sum(1 for row in rows if row.pin_hash),
        "total_credit": str(total_credit),
        "preview": preview,
        "errors": errors[:REPORT_ERRORS_MAX],
        "errors_count": len(errors),
        "room": room.as_dict(),
        "room_error": room_error,
        "context": context.as_dict(),
        "ok": not errors and not room_error,
    }


def summary_of(report: dict) -> tuple:
    """What must not change between Check and Confirm for the Confirm to go ahead."""
    return (
        report.get("count"),
        report.get("unlimited"),
        report.get("total_credit"),
        report.get("with_pin"),
    )


# --- the rows kept between Check and Confirm ----------------------------------------------


def pack_rows(rows: list[Row]) -> bytes:
    data = [
        [
            row.line,
            row.raw_number,
            row.number,
            row.pin_salt,
            row.pin_hash,
            row.order,
            row.credit_text,
        ]
        for row in rows
    ]
    return zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 1)


def unpack_rows(blob: bytes) -> list[Row]:
    if not blob:
        return []
    return [Row(*item) for item in json.loads(zlib.decompress(bytes(blob)))]
