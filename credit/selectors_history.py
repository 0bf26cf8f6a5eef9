"""Reads for the credit management page (SPEC §6): the recharge history and the calls
between its rows.

The history lists every ledger row except calls; between two rows the page shows a line
summing the calls in between, so that Credit Left can be followed. Those summaries are
one aggregate query for the whole page, whatever the number of rows or calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet

from credit.exports import recharge_history as _recharge_history
from credit.models import LedgerEntry, LedgerKind

# Amounts are summed as integer ten-thousandths: exact on PostgreSQL and on SQLite, where
# decimals are stored as floating point and a SUM of them would drift.
_SCALE = 10_000
_NO_UPPER_BOUND = 2**63 - 1

_CALLS_BETWEEN_SQL = """
SELECT anchor, SUM(CAST(ROUND(amount * {scale}) AS BIGINT)), COUNT(*)
FROM (
    SELECT kind, amount,
           MAX(CASE WHEN kind <> %(call)s THEN id END)
               OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS anchor
    FROM {table}
    WHERE callerid_id = %(callerid)s
      AND id >= %(lowest)s
      AND id < COALESCE(
          (SELECT MIN(id) FROM {table}
           WHERE callerid_id = %(callerid)s AND kind <> %(call)s AND id > %(highest)s),
          %(no_upper_bound)s)
) ledger
WHERE kind = %(call)s AND anchor IN ({anchors})
GROUP BY anchor
"""


@dataclass(frozen=True)
class CallsSummary:
    """The calls charged between a history row and the next (newer) ledger row."""

    amount: Decimal  # the sum of the call rows' amounts: 0 or negative, 4 decimals
    count: int

    @property
    def text(self) -> str:
        """'calls: −3.2500 (7 calls)', with a true minus sign."""
        sign = "\u2212" if self.amount < 0 else ""
        noun = "call" if self.count == 1 else "calls"
        return f"calls: {sign}{abs(self.amount):.4f} ({self.count} {noun})"


def recharge_history(callerid) -> QuerySet[LedgerEntry]:
    """Every ledger row of the CallerID except calls, newest first.

    The same queryset the recharge history export uses, so the page and its export agree.
    """
    return _recharge_history(callerid)


def calls_after(callerid, entry_ids: Iterable[int]) -> dict[int, CallsSummary]:
    """For each given non-call ledger row: the calls after it up to the next non-call row
    of the ledger (hidden by a search or not), keyed by the row's id. Rows without calls
    after them are left out.

    One query: a running maximum over the ledger (in id order) tags each call with the
    last non-call row before it, and the calls are grouped by that tag. Only the ledger
    between the oldest given row and the next non-call row after the newest is read.
    """
    ids = sorted({int(pk) for pk in entry_ids})
    if not ids:
        return {}
    callerid_id = getattr(callerid, "pk", callerid)
    table = connection.ops.quote_name(LedgerEntry._meta.db_table)
    params: dict[str, object] = {
        "call": LedgerKind.CALL.value,
        "callerid": callerid_id,
        "lowest": ids[0],
        "highest": ids[-1],
        "no_upper_bound": _NO_UPPER_BOUND,
    }
    anchors = []
    for index, pk in enumerate(ids):
        params[f"a{index}"] = pk
        anchors.append(f"%(a{index})s")
    sql = _CALLS_BETWEEN_SQL.format(scale=_SCALE, table=table, anchors=", ".join(anchors))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {
        int(anchor): CallsSummary(
            amount=(Decimal(int(total)) / _SCALE).quantize(Decimal("0.0001")), count=int(count)
        )
        for anchor, total, count in rows
    }
