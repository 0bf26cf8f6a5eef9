"""The ledger's invariants (SPEC §6.1) and the license counters, checked by streaming.

`ledger_failures()` reads the CallerIDs and their ledger rows as two streams in the same
order (CallerID id, then row id) and walks them side by side, so memory stays flat on a
million CallerIDs; every sum is done in Python Decimal.
`hold_failures()` checks SPEC §11's invariant: a limited CallerID's open holds never sum
to more than its balance.
`counter_failures()` compares License and Reseller counters with the real counts of
enabled CallerIDs (aggregated by the database).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone

from callerids.models import AuthorizedCallerID, CallerIDStatus
from callerids.selectors import get_license
from credit.models import CallHold, HoldStatus, LedgerEntry, LedgerKind
from tenancy.models import Reseller

CHUNK = 5000
GRANTS = (LedgerKind.INITIAL, LedgerKind.RECHARGE, LedgerKind.ADJUSTMENT)


@dataclass(frozen=True)
class Failure:
    callerid_id: int
    number: str
    extension: str
    reason: str

    def __str__(self) -> str:
        return f"CallerID #{self.callerid_id} {self.number} (extension {self.extension}): " + (
            self.reason
        )


def _sign_problem(kind: str, amount: Decimal | None) -> str:
    """What is wrong with `amount` for a row of this kind (SPEC §6.1), or ""."""
    if kind == LedgerKind.SET_UNLIMITED:
        return "" if amount is None else f"amount {amount} where none (null)"
    if amount is None:
        return "" if kind == LedgerKind.INITIAL else "missing amount"
    if kind == LedgerKind.INITIAL and amount < 0:
        return "a negative initial credit"
    if kind == LedgerKind.RECHARGE and amount <= 0:
        return "a recharge must add credit"
    if kind in (LedgerKind.ADJUSTMENT, LedgerKind.SET_LIMITED) and amount >= 0:
        verb = "an adjustment" if kind == LedgerKind.ADJUSTMENT else "set limited"
        return f"{verb} must remove credit"
    if kind == LedgerKind.CALL and amount > 0:
        return "a call cannot add credit"
    return ""


def _walk(rows) -> tuple[list[str], bool, Decimal | None, Decimal | None]:
    """Replay one CallerID's ledger; return (problems, unlimited, balance, total)."""
    problems: list[str] = []
    unlimited, balance, total = False, Decimal("0"), Decimal("0")
    for index, (row_id, kind, amount, balance_after) in enumerate(rows):
        where = f"ledger row #{row_id} ({kind})"
        if index == 0 and kind != LedgerKind.INITIAL:
            problems.append(f"{where}: the first row is not the initial credit")
        if index > 0 and kind == LedgerKind.INITIAL:
            problems.append(f"{where}: a second initial row")
        sign_problem = _sign_problem(kind, amount)
        if sign_problem:
            problems.append(f"{where}: {sign_problem}")
        if kind == LedgerKind.SET_UNLIMITED or (kind == LedgerKind.INITIAL and amount is None):
            if kind == LedgerKind.SET_UNLIMITED and unlimited:
                problems.append(f"{where}: already Unlimited")
            if balance_after is not None:
                problems.append(f"{where}: balance {balance_after} where Unlimited (null)")
            unlimited, balance, total = True, None, None
            continue
        if kind == LedgerKind.SET_LIMITED:
            if not unlimited:
                problems.append(f"{where}: only an Unlimited CallerID can be set limited")
            if balance_after != 0:
                problems.append(f"{where}: balance {balance_after}, expected 0")
            unlimited, balance, total = False, Decimal("0"), Decimal("0")
            continue
        if kind == LedgerKind.CALL and unlimited:
            if balance_after is not None:
                problems.append(f"{where}: balance {balance_after} while Unlimited (null)")
            continue
        if unlimited:
            problems.append(f"{where}: credit row while Unlimited")
            continue
        if amount is None or balance_after is None:
            problems.append(f"{where}: missing amount or balance")
            continue
        expected = balance + amount
        if balance_after != expected:
            problems.append(f"{where}: balance {balance_after}, expected {expected}")
        if balance_after < 0:
            problems.append(f"{where}: negative balance {balance_after}")
        balance = balance_after
        if kind in GRANTS:
            total += amount
    return problems, unlimited, balance, total


def ledger_failures() -> Iterator[Failure]:
    """Every CallerID whose ledger breaks an invariant of SPEC §6.1, one Failure each."""
    callerids = (
        AuthorizedCallerID.objects.order_by("pk")
        .values_list("pk", "number", "extension__number", "unlimited", "available", "total")
        .iterator(chunk_size=CHUNK)
    )
    entries = (
        LedgerEntry.objects.order_by("callerid_id", "pk")
        .values_list("callerid_id", "pk", "kind", "amount", "balance_after")
        .iterator(chunk_size=CHUNK)
    )
    pending = next(entries, None)
    for pk, number, extension, unlimited, available, total in callerids:
        rows = []
        while pending is not None and pending[0] <= pk:
            if pending[0] == pk:
                rows.append(pending[1:])
            pending = next(entries, None)
        if not rows:
            yield Failure(pk, number, extension, "no ledger rows (no initial credit)")
            continue
        problems, ledger_unlimited, balance, ledger_total = _walk(rows)
        if unlimited != ledger_unlimited:
            problems.append(
                f"unlimited is {unlimited} on the CallerID but {ledger_unlimited} in the ledger"
            )
        if available != balance:
            problems.append(f"available credit {available}, the ledger says {balance}")
        if total != ledger_total:
            problems.append(f"total credit {total}, the ledger says {ledger_total}")
        if problems:
            yield Failure(pk, number, extension, "; ".join(problems))


def hold_failures(*, now=None) -> Iterator[Failure]:
    """CallerIDs whose open holds break SPEC §11's invariant: for a limited CallerID they
    never sum to more than its balance; an Unlimited one reserves nothing.

    Streams the open holds in CallerID order (few rows: calls in progress) and sums each
    CallerID's in Decimal; holds past their expiry count for nothing, as on the hot path.
    """
    now = now or timezone.now()
    holds = (
        CallHold.objects.filter(status=HoldStatus.OPEN, expires_at__gt=now, callerid__isnull=False)
        .order_by("callerid_id", "pk")
        .values_list(
            "callerid_id",
            "reserved",
            "callerid__number",
            "callerid__extension__number",
            "callerid__unlimited",
            "callerid__available",
        )
        .iterator(chunk_size=CHUNK)
    )
    current = None
    for callerid_id, reserved, number, extension, unlimited, available in holds:
        if current is None or current[0] != callerid_id:
            if current is not None:
                yield from _hold_problem(*current)
            current = [callerid_id, number, extension, unlimited, available, 0, Decimal("0")]
        current[5] += 1
        current[6] += reserved
    if current is not None:
        yield from _hold_problem(*current)


def _hold_problem(callerid_id, number, extension, unlimited, available, count, reserved):
    if unlimited and reserved:
        yield Failure(
            callerid_id,
            number,
            extension,
            f"Unlimited, but {count} open hold(s) reserve {reserved}",
        )
    elif not unlimited and reserved > available:
        yield Failure(
            callerid_id,
            number,
            extension,
            f"{count} open hold(s) reserve {reserved}, more than the balance {available}",
        )


def counter_failures() -> list[str]:
    """Differences between the License/Reseller counters and the enabled CallerIDs."""
    failures = []
    counts = dict(
        AuthorizedCallerID.objects.filter(status=CallerIDStatus.ENABLED)
        .values_list("extension__organization__reseller_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("extension__organization__reseller_id", "n")
    )
    license = get_license()
    enabled = sum(counts.values())
    if license.active_callerids != enabled:
        failures.append(
            f"License: counter says {license.active_callerids} active CallerIDs, "
            f"{enabled} are enabled"
        )
    resellers = Reseller.objects.order_by("pk").values_list("pk", "name", "active_callerids")
    for pk, name, counter in resellers.iterator(chunk_size=CHUNK):
        real = counts.get(pk, 0)
        if counter != real:
            failures.append(
                f"Reseller #{pk} {name}: counter says {counter} active CallerIDs, "
                f"{real} are enabled"
            )
    return failures
