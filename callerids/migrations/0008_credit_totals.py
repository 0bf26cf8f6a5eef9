"""Per-reseller credit totals for the panel home (issue 22), filled from the CallerIDs."""

from decimal import Decimal

import django.db.models.deletion
from django.db import migrations, models


def fill(apps, schema_editor):
    """Sum the balances of the CallerIDs that are not removed, in Decimal, per reseller."""
    Reseller = apps.get_model("callback", "Reseller")
    CallerID = apps.get_model("callerids", "AuthorizedCallerID")
    CreditTotals = apps.get_model("callerids", "CreditTotals")
    totals = {pk: [Decimal("0.0000"), 0] for pk in Reseller.objects.values_list("pk", flat=True)}
    rows = (
        CallerID.objects.exclude(status="removed")
        .order_by()
        .values_list("extension__organization__reseller_id", "unlimited", "available")
    )
    for reseller_id, unlimited, available in rows.iterator(chunk_size=5000):
        if unlimited:
            totals[reseller_id][1] += 1
        else:
            totals[reseller_id][0] += Decimal(available)
    CreditTotals.objects.bulk_create(
        CreditTotals(reseller_id=pk, outstanding=outstanding, unlimited=unlimited)
        for pk, (outstanding, unlimited) in totals.items()
    )


class Migration(migrations.Migration):

    dependencies = [
        ('callback', '0001_initial'),
        ('callerids', '0007_importjob_bad_lines'),
    ]

    operations = [
        migrations.CreateModel(
            name='CreditTotals',
            fields=[
                ('reseller', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, primary_key=True, related_name='+', serialize=False, to='callback.reseller')),
                ('outstanding', models.DecimalField(decimal_places=4, default=0, max_digits=24)),
                ('unlimited', models.IntegerField(default=0)),
            ],
            options={
                'verbose_name_plural': 'credit totals',
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
