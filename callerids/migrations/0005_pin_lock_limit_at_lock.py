from django.db import migrations, models
from django.db.models import F


def remember_existing_locks(apps, schema_editor):
    # A locked CallerID's wrong-PIN count stops moving at the lock (SPEC §9), so it is the
    # best record of the limit it was locked at.
    AuthorizedCallerID = apps.get_model("callerids", "AuthorizedCallerID")
    AuthorizedCallerID.objects.filter(status="disabled", status_reason="locked").update(
        locked_after_pins=F("wrong_pin_count")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("callerids", "0004_number_trigram_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="authorizedcallerid",
            name="locked_after_pins",
            field=models.PositiveSmallIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(remember_existing_locks, migrations.RunPython.noop),
    ]
