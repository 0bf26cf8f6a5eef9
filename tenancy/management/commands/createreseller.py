"""manage.py createreseller "<name>": create a reseller (SPEC §10)."""

from django.core.management.base import BaseCommand, CommandError

from panel.fields import whole_number
from tenancy.audit import SYSTEM
from tenancy.services.tenancy import create_reseller
from values.errors import DomainError


class Command(BaseCommand):
    help = "Create a reseller. Names are unique, ignoring case."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The reseller's name.")
        parser.add_argument(
            "--max-active-callerids",
            type=whole_number,
            default=None,
            help="Its share of the license (default: no own cap).",
        )
        parser.add_argument(
            "--may-grant-unlimited",
            action="store_true",
            help="Allow its users to grant Unlimited credit.",
        )

    def handle(self, *args, name, max_active_callerids, may_grant_unlimited, **options):
        if max_active_callerids is not None and max_active_callerids < 0:
            raise CommandError("--max-active-callerids must be 0 or more.")
        try:
            reseller = create_reseller(
                actor=SYSTEM,
                name=name,
                max_active_callerids=max_active_callerids,
                may_grant_unlimited=may_grant_unlimited,
            )
        except DomainError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        cap = (
            "no own cap"
            if reseller.max_active_callerids is None
            else f"at most {reseller.max_active_callerids} active CallerIDs"
        )
        unlimited = "may" if reseller.may_grant_unlimited else "may not"
        self.stdout.write(
            f'Created reseller "{reseller.name}" (id {reseller.pk}; {cap}; {unlimited} grant '
            "Unlimited)."
        )
