"""manage.py release_expired_holds: release the holds of calls never reported in time (SPEC
§11, Expiry), for cron; the periodic task calls the same service."""

from django.core.management.base import BaseCommand

from credit.services.holds import release_expired_holds


class Command(BaseCommand):
    help = (
        "Release every hold still open max_duration_seconds + 300 s after its start, without "
        "a charge (marked expired). Prints how many."
    )

    def handle(self, *args, **options):
        released = release_expired_holds()
        self.stdout.write(f"Released {released} expired hold(s).")
