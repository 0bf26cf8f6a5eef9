"""Demo calls and a demo API token for `manage.py seed_demo` (idempotent).

Calls are charged through the same service the PBX API uses, as the demo token, so the
demo ledger is exactly what real traffic would write. Call ids are deterministic: a call
already reported is skipped on the next run.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from callback.models import CallbackExtension, ReturnMode
from callerids.models import AuthorizedCallerID, CallerIDStatus
from credit.models import Call
from credit.services.calls import CallReport, report_call
from tenancy.audit import SYSTEM, Actor
from tenancy.models import ApiToken
from tenancy.services.tokens import create_token

DEMO_TOKEN_NAME = "Demo PBX"
DAYS = 60
CALLS_PER_CALLERID = 6
UNMETERED_CALLS_PER_EXTENSION = 4
MAX_CALLERIDS = 50  # enough to fill the reports; the demo stays quick to seed


def _demo_token(stdout) -> ApiToken:
    token = ApiToken.objects.filter(name=DEMO_TOKEN_NAME, revoked_at__isnull=True).first()
    if token is not None:
        return token
    created = create_token(actor=SYSTEM, name=DEMO_TOKEN_NAME, reseller=None)
    stdout.write(f"Demo API token (whole server; shown once): {created.plaintext}")
    return created.token


def _calls_for(
    key: str, count: int, *, extension: str, callerid_id: int | None, caller: str, now
) -> list[CallReport]:
    """`count` calls over the last DAYS days, the same ones for the same key."""
    rng = random.Random(key)
    reports = []
    for n in range(count):
        started = now - timedelta(
            days=rng.randrange(DAYS), hours=rng.randrange(24), minutes=rng.randrange(60)
        )
        duration = rng.randrange(20, 900)
        # About 0.02 per minute, as the PBX would rate it, in whole ten-thousandths.
        cost = (Decimal(duration) * Decimal("0.0003")).quantize(Decimal("0.0001"))
        reports.append(
            CallReport(
                call_id=f"demo-{key}-{n}",
                extension=extension,
                callerid_id=callerid_id,
                caller_id=caller,
                destination=f"+40310{rng.randrange(100000, 999999)}",
                started_at=started.replace(second=0, microsecond=0),
                duration_seconds=duration,
                cost=cost,
            )
        )
    return sorted(reports, key=lambda report: report.started_at)


def _report_new(token: ApiToken, reports: list[CallReport]) -> int:
    actor = Actor(token=token)
    known = set(
        Call.objects.filter(call_id__in=[r.call_id for r in reports]).values_list(
            "call_id", flat=True
        )
    )
    fresh = [r for r in reports if r.call_id not in known]
    for report in fresh:
        report_call(token=token, report=report, actor=actor)
    return len(fresh)


def seed(stdout) -> None:
    token = _demo_token(stdout)
    now = timezone.now()
    metered = unmetered = 0
    callerids = (
        AuthorizedCallerID.objects.exclude(status=CallerIDStatus.REMOVED)
        .select_related("extension")
        .order_by("id")[:MAX_CALLERIDS]
    )
    for callerid in callerids:
        reports = _calls_for(
            f"c{callerid.pk}",
            CALLS_PER_CALLERID,
            extension=callerid.extension.number,
            callerid_id=callerid.pk,
            caller=callerid.number,
            now=now,
        )
        metered += _report_new(token, reports)
    open_modes = CallbackExtension.objects.filter(
        return_mode__in=[ReturnMode.CALLER, ReturnMode.FIXED]
    ).order_by("id")
    for extension in open_modes:
        reports = _calls_for(
            f"e{extension.pk}",
            UNMETERED_CALLS_PER_EXTENSION,
            extension=extension.number,
            callerid_id=None,
            caller="+40721000555",
            now=now,
        )
        unmetered += _report_new(token, reports)
    stdout.write(f"Calls: {metered} charged to CallerIDs, {unmetered} unmetered, reported.")
