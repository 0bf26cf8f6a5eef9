"""manage.py seed_demo: idempotent demo data with printed logins (SPEC §10)."""

import importlib
import io

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

# Each app contributes its part, in this order; a module brings `seed(stdout) -> None`.
DEMO_MODULES = ["demo.tenancy", "demo.extensions", "demo.callerids", "demo.credit"]


class Command(BaseCommand):
    help = "Create demo resellers, organizations, extensions, CallerIDs and users (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even when DEBUG is off.")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when any user already exists."
        )

    def handle(self, *args, force=False, if_empty=False, verbosity=1, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo refuses to run with DEBUG off; pass --force to insist.")
        if if_empty and get_user_model().objects.exists():
            if verbosity:
                self.stdout.write("The database already has users: demo data not added.")
            return
        with transaction.atomic():
            for name in DEMO_MODULES:
                try:
                    module = importlib.import_module(name)
                except ModuleNotFoundError as exc:
                    if exc.name != name:
                        raise
                    continue
                # With --verbosity 0 (make run) each module's report is dropped.
                module.seed(self.stdout if verbosity else io.StringIO())
        if verbosity:
            self.stdout.write(self.style.SUCCESS("Demo data ready."))
