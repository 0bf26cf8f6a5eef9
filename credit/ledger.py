"""The ledger's primitives, used by every service that moves credit (SPEC §6.1).

Callers own the transaction: lock the CallerID row first (callerids.selectors.lock_callerid),
compute the new balance in Python Decimal, then append the row and write the absolute
balance. Never SQL arithmetic on money: SQLite stores decimals as floating point.
"""

from __future__ import annotations

import zlib
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.db import connection, models

from callerids.models import AuthorizedCallerID
from credit.models import Call, LedgerEntry, LedgerKind
from database.prepared import Statement
from database.tables import table
from tenancy.audit import Actor
from tenancy.preferences import get_preferences
from values.money import MAX_BALANCE, format_money, quantize4

_WRITE_BALANCE = Statement(
    "write_balance", f"UPDATE {table(AuthorizedCallerID)} SET available = %s WHERE id = %s"
)


def decimal_from_db(value) -> Decimal | None:
    """A money column read by a raw query: Decimal on PostgreSQL; on SQLite, which stores
    decimals as floating point, a float (or int) whose shortest text is the stored value
    (up to 15 significant digits survive the round trip; a balance has at most 14)."""
    if value is None or isinstance(value, Decimal):
        return value
    return quantize4(Decimal(repr(value) if isinstance(value, float) else value))


@lru_cache(maxsize=16)
def _insert(model: type[models.Model], names: tuple[str, ...]) -> tuple[Statement, tuple]:
    meta = model._meta
    fields = tuple(meta.get_field(name) for name in names)
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({}) RETURNING {}".format(
        quote(meta.db_table),
        ", ".join(quote(field.column) for field in fields),
        ", ".join(["%s"] * len(fields)),
        quote(meta.pk.column),
    )
    name = f"insert_{meta.db_table}_{zlib.crc32(sql.encode()):08x}"
    return Statement(name, sql), fields


def insert_row(model: type[models.Model], values: dict[str, object]) -> int:
    """INSERT one row of `model` (field name -> value, each prepared for the database as the
    ORM prepares it) and return its primary key. No model instance, no signals, no
    defaults: give every NOT NULL column. For the PBX's hot path, where building the ORM's
    INSERT (and planning it) costs several times the INSERT itself: a prepared statement
    per model and set of fields."""
    statement, fields = _insert(model, tuple(values))
    params = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(fields, values.values(), strict=True)
    ]
    return statement.fetchone(params)[0]


def record_call(
    *,
    call: dict[str, object],
    callerid_id: int,
    reseller_id: int,
    charged: Decimal,
    balance_after: Decimal | None,
    actor: Actor,
    created_at: datetime,
    also: tuple[tuple[str, ...], list] = ((), []),
) -> int:
    """Insert a charged call (`call`: Call field name -> value), append its `call` ledger
    row and write the CallerID's new balance; return the call's id.

    `also`, PostgreSQL only: more writes to make in the same statement, each an
    `INSERT`/`UPDATE … RETURNING …` run as a data-modifying WITH query (it may use the new
    call's id as `(SELECT id FROM new_call)`), and their parameters (ready for the
    database); credit.call_days.writes gives the call's day and totals this way.

    For the PBX's hot path: the caller holds the CallerID's row lock and computed
    `balance_after` in Decimal (None while unlimited: no balance change). On PostgreSQL
    the three writes (and `also`) are one prepared statement (data-modifying CTEs), so the
    lock is held for two round trips (this statement and the commit) instead of four;
    elsewhere they are three statements.
    """
    if balance_after is not None:
        balance_after = _checked_balance(balance_after)
    entry = {
        "callerid": callerid_id,
        "kind": LedgerKind.CALL.value,
        "amount": quantize4(-charged),
        "balance_after": balance_after,
        "order_number": "",
        "actor": actor.user.pk if actor.user is not None else None,
        "actor_username": _actor_username(actor),
        "reseller": reseller_id,
        "created_at": created_at,
    }
    limited = balance_after is not None
    also_queries, also_params = also
    if connection.vendor == "postgresql":
        statement, fields = _record_call(tuple(call), tuple(entry), limited, also_queries)
        values = [*call.values(), *entry.values()]
        params = [
            field.get_db_prep_save(value, connection)
            for field, value in zip(fields, values, strict=True)
        ]
        params += also_params
        if limited:
            available, pk = (
                AuthorizedCallerID._meta.get_field("available"),
                AuthorizedCallerID._meta.pk,
            )
            params += [
                available.get_db_prep_save(balance_after, connection),
                pk.get_db_prep_save(callerid_id, connection),
            ]
        return statement.fetchone(params)[0]
    if also_queries:
        raise ValueError("record_call runs more writes in its statement on PostgreSQL only")
    call_id = insert_row(Call, call)
    insert_row(LedgerEntry, {**entry, "call": call_id})
    if limited:
        field = AuthorizedCallerID._meta.get_field("available")
        with connection.cursor() as cursor:
            _WRITE_BALANCE.execute(
                cursor, [field.get_db_prep_save(balance_after, connection), callerid_id]
            )
    return call_id


@lru_cache(maxsize=8)
def _record_call(
    call_names: tuple[str, ...],
    entry_names: tuple[str, ...],
    limited: bool,
    also: tuple[str, ...] = (),
) -> tuple[Statement, tuple]:
    quote = connection.ops.quote_name
    call_fields = tuple(Call._meta.get_field(name) for name in call_names)
    entry_fields = tuple(LedgerEntry._meta.get_field(name) for name in entry_names)
    marks = ", ".join
    sql = (
        f"WITH new_call AS (INSERT INTO {quote(Call._meta.db_table)} "
        f"({marks(quote(f.column) for f in call_fields)}) "
        f"VALUES ({marks(['%s'] * len(call_fields))}) RETURNING id), "
        f"new_entry AS (INSERT INTO {quote(LedgerEntry._meta.db_table)} "
        f"({marks(quote(f.column) for f in entry_fields)}, call_id) "
        f"VALUES ({marks(['%s'] * len(entry_fields))}, (SELECT id FROM new_call))) "
    )
    sql += "".join(f", also_{n} AS ({query}) " for n, query in enumerate(also))
    fields = call_fields + entry_fields
    if limited:
        sql += (
            f"UPDATE {quote(AuthorizedCallerID._meta.db_table)} SET available = %s "
            "WHERE id = %s RETURNING (SELECT id FROM new_call)"
        )
    else:
        sql += "SELECT id FROM new_call"
    name = f"record_call_{zlib.crc32(sql.encode()):08x}"
    return Statement(name, sql), fields


def _checked_balance(balance_after: Decimal) -> Decimal:
    balance_after = quantize4(balance_after)
    if balance_after < 0:
        raise ValidationError("The balance cannot go below 0.")
    if balance_after > MAX_BALANCE:
        preferences = get_preferences()
        limit = format_money(MAX_BALANCE, preferences.decimals, preferences.currency, bound=True)
        raise ValidationError(f"A balance holds at most {limit}.")
    return balance_after


def _actor_username(actor: Actor) -> str:
    return actor.label if actor.user is not None or actor.token is not None else ""


def entry_for(
    *,
    callerid: AuthorizedCallerID,
    kind: str,
    amount: Decimal | None,
    balance_after: Decimal | None,
    actor: Actor,
    reseller_id: int | None = None,
    order_number: str = "",
    one_time_key=None,
    call=None,
) -> LedgerEntry:
    """The row append() writes, unsaved: for services that write many at once
    (LedgerEntry.objects.bulk_create); the same checks on the balance. A bulk insert skips
    LedgerEntry.save(): give `reseller_id` (the CallerID's reseller) then."""
    if balance_after is not None:
        balance_after = _checked_balance(balance_after)
    return LedgerEntry(
        callerid=callerid,
        kind=kind,
        amount=quantize4(amount) if amount is not None else None,
        balance_after=balance_after,
        order_number=order_number,
        one_time_key=one_time_key,
        call=call,
        actor=actor.user,
        actor_username=_actor_username(actor),
        reseller_id=reseller_id,
    )


def append(
    *,
    callerid: AuthorizedCallerID,
    kind: str,
    amount: Decimal | None,
    balance_after: Decimal | None,
    actor: Actor,
    reseller_id: int | None = None,
    order_number: str = "",
    one_time_key=None,
    call=None,
) -> LedgerEntry:
    """Append one ledger row; the caller then saves callerid.available/total to match.
    `reseller_id` is the CallerID's reseller (kept on the row for the panel home); when
    not given, LedgerEntry.save() reads it."""
    entry = entry_for(
        callerid=callerid,
        kind=kind,
        amount=amount,
        balance_after=balance_after,
        actor=actor,
        order_number=order_number,
        one_time_key=one_time_key,
        call=call,
        reseller_id=reseller_id,
    )
    entry.save(force_insert=True)
    return entry
