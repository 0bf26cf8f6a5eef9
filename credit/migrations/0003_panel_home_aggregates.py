"""The panel home's aggregates (issue 22): per-reseller, per-day call totals (CallDay),
and the reseller on every ledger row (for "last 10 recharges"), both filled from the rows
already there."""

from decimal import Decimal
from zoneinfo import ZoneInfo

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

ZERO = Decimal("0.0000")

# Every ledger row gets its CallerID's reseller (a CallerID never changes reseller).
FILL_LEDGER_RESELLER = """
UPDATE credit_ledgerentry SET reseller_id = (
  SELECT o.reseller_id FROM callerids_authorizedcallerid c
    JOIN callback_callbackextension e ON e.id = c.extension_id
    JOIN callback_organization o ON o.id = e.organization_id
   WHERE c.id = credit_ledgerentry.callerid_id)
"""


def fill_call_days(apps, schema_editor):
    """Add up the calls already recorded, in Decimal, by reseller and server-TZ day."""
    Call = apps.get_model("credit", "Call")
    CallDay = apps.get_model("credit", "CallDay")
    zone = ZoneInfo(settings.TIME_ZONE)
    days = {}
    rows = Call.objects.order_by().values_list(
        "extension__organization__reseller_id",
        "started_at",
        "metered",
        "duration_seconds",
        "cost",
        "charged",
        "shortfall",
    )
    for reseller_id, started_at, metered, seconds, cost, charged, shortfall in rows.iterator(
        chunk_size=5000
    ):
        key = (reseller_id, started_at.astimezone(zone).date())
        row = days.setdefault(
            key,
            {
                "calls": 0,
                "seconds": 0,
                "cost": ZERO,
                "charged": ZERO,
                "shortfall": ZERO,
                "unmetered_calls": 0,
                "unmetered_seconds": 0,
                "unmetered_cost": ZERO,
            },
        )
        if metered:
            row["calls"] += 1
            row["seconds"] += seconds
            row["cost"] += Decimal(cost)
            row["charged"] += Decimal(charged)
            row["shortfall"] += Decimal(shortfall)
        else:
            row["unmetered_calls"] += 1
            row["unmetered_seconds"] += seconds
            row["unmetered_cost"] += Decimal(cost)
    CallDay.objects.bulk_create(
        [CallDay(reseller_id=r, day=d, **values) for (r, d), values in days.items()],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("callback", "0002_call_admission"),
        ("callerids", "0008_credit_totals"),
        ("credit", "0002_call_holds"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CallDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("calls", models.PositiveIntegerField(default=0)),
                ("seconds", models.PositiveBigIntegerField(default=0)),
                ("cost", models.DecimalField(decimal_places=4, default=0, max_digits=24)),
                ("charged", models.DecimalField(decimal_places=4, default=0, max_digits=24)),
                ("shortfall", models.DecimalField(decimal_places=4, default=0, max_digits=24)),
                ("unmetered_calls", models.PositiveIntegerField(default=0)),
                ("unmetered_seconds", models.PositiveBigIntegerField(default=0)),
                ("unmetered_cost", models.DecimalField(decimal_places=4, default=0, max_digits=24)),
            ],
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="reseller",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="callback.reseller",
            ),
        ),
        migrations.RunSQL(FILL_LEDGER_RESELLER, migrations.RunSQL.noop),
        migrations.AddField(
            model_name="callday",
            name="reseller",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="callback.reseller",
            ),
        ),
        migrations.AddIndex(
            model_name="callday",
            index=models.Index(fields=["day"], name="callday_day"),
        ),
        migrations.AddConstraint(
            model_name="callday",
            constraint=models.UniqueConstraint(
                fields=("reseller", "day"), name="callday_one_per_reseller_day"
            ),
        ),
        migrations.RunPython(fill_call_days, migrations.RunPython.noop),
    ]
