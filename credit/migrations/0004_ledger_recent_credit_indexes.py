"""The ledger's reseller, indexed for the panel home (its own migration: PostgreSQL refuses
to index a table with the fill's deferred foreign-key checks still pending in the same
transaction)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("credit", "0003_panel_home_aggregates"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(
                condition=models.Q(("kind", "call"), _negated=True),
                fields=["reseller", "-id"],
                name="ledger_recent_credit",
            ),
        ),
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(
                condition=models.Q(("kind", "call"), _negated=True),
                fields=["-id"],
                name="ledger_recent_credit_all",
            ),
        ),
    ]
