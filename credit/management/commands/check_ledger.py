"""manage.py check_ledger: prove every balance is what its ledger says (SPEC §6.1), and that
the license counters equal the real number of enabled CallerIDs."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from credit.checks import counter_failures, hold_failures, ledger_failures


class Command(BaseCommand):
    help = (
        "Check every CallerID's ledger (SPEC §6.1), that its open holds fit in its balance (§11),"
        " and the License/Reseller counters. "
        "Prints OK, or each failing CallerID; exits non-zero on any failure."
    )

    def handle(self, *args, **options):
        outermost = not connection.in_atomic_block
        with transaction.atomic():
            if connection.vendor == "postgresql" and outermost:
                # One snapshot for both streams, so a recharge committed while we read
                # cannot look like a mismatch.
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            failures = 0
            for failure in ledger_failures():
                failures += 1
                self.stdout.write(str(failure))
            for failure in hold_failures():
                failures += 1
                self.stdout.write(str(failure))
            problems = counter_failures()
        for problem in problems:
            self.stdout.write(problem)
        if failures or problems:
            raise CommandError(
                f"check_ledger failed: {failures} CallerID(s) and {len(problems)} counter(s)."
            )
        self.stdout.write("OK: every ledger, hold and license counter matches.")
