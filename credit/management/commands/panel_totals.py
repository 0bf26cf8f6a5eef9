"""manage.py panel_totals: prove the panel home's counters (SPEC §14) equal the rows they
summarize: each reseller's credit outstanding and Unlimited count (CreditTotals), the calls
per reseller and day (CallDay), and the reseller on every ledger row. With --rebuild,
recompute them from the rows first (after a bulk load around the services, a repair in the
Django shell, or a change of TIME_ZONE, which moves the day boundaries)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import F, Q

from callerids.models import CreditTotals
from callerids.services import credit_totals
from credit import call_days
from credit.models import CallDay, LedgerEntry
from values.money import ZERO


class Command(BaseCommand):
    help = (
        "Check the panel home's counters (credit totals, call days, the ledger's reseller) "
        "against the rows; --rebuild recomputes them first. Exits non-zero on a difference."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="recompute them first")

    def handle(self, *args, rebuild=False, **options):
        if rebuild:
            missing = LedgerEntry.objects.filter(reseller__isnull=True)
            for entry in missing.select_related("callerid__extension__organization"):
                LedgerEntry.objects.filter(pk=entry.pk).update(
                    reseller_id=entry.callerid.extension.organization.reseller_id
                )
            credit_totals.rebuild()
            call_days.rebuild()
            self.stdout.write("Rebuilt the credit totals and the call days.")
        problems = []
        outermost = not connection.in_atomic_block
        with transaction.atomic():
            if connection.vendor == "postgresql" and outermost:
                # One snapshot for every comparison (as check_ledger does).
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            stored = {
                t.reseller_id: (t.outstanding, t.unlimited) for t in CreditTotals.objects.all()
            }
            for reseller_id, (outstanding, unlimited) in sorted(credit_totals.computed().items()):
                have = stored.get(reseller_id, (ZERO, 0))
                if have != (outstanding, unlimited):
                    problems.append(
                        f"reseller #{reseller_id}: credit totals say {have[0]} outstanding and "
                        f"{have[1]} Unlimited; the CallerIDs say {outstanding} and {unlimited}"
                    )
            days = {
                (row.reseller_id, row.day): {name: getattr(row, name) for name in call_days.COLUMNS}
                for row in CallDay.objects.all()
            }
            for key, values in sorted(call_days.computed().items()):
                if days.pop(key, None) != values:
                    problems.append(f"reseller #{key[0]} on {key[1]}: the call day differs")
            for key in sorted(days):
                if any(days[key].values()):
                    problems.append(f"reseller #{key[0]} on {key[1]}: a call day without calls")
            wrong = LedgerEntry.objects.filter(
                Q(reseller__isnull=True)
                | ~Q(reseller_id=F("callerid__extension__organization__reseller_id"))
            ).count()
            if wrong:
                problems.append(f"{wrong} ledger row(s) without their CallerID's reseller")
        for problem in problems:
            self.stdout.write(problem)
        if problems:
            raise CommandError(f"panel_totals failed: {len(problems)} difference(s).")
        self.stdout.write("OK: the panel home's counters match the rows.")
