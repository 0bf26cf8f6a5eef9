"""manage.py createuser <username> --role admin|reseller|staff [--reseller "<name>"] (SPEC §10).

The password comes from DJANGO_USER_PASSWORD, else it is asked for (twice) on a terminal.
"""

import getpass
import os
import sys

from django.core.management.base import BaseCommand, CommandError

from tenancy.audit import SYSTEM
from tenancy.models import Reseller, Role
from tenancy.services.tenancy import create_user
from values.errors import DomainError

PASSWORD_VARIABLE = "DJANGO_USER_PASSWORD"


class Command(BaseCommand):
    help = "Create a user with a role: admin, reseller (needs --reseller) or staff."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument(
            "--reseller",
            default=None,
            help="The reseller's name: required for the reseller role, optional for staff "
            "(without it: the whole server).",
        )
        parser.add_argument("--email", default="")

    def handle(self, *args, username, role, reseller, email, **options):
        bound_to = self._reseller(reseller)
        password = self._password()
        try:
            user = create_user(
                actor=SYSTEM,
                username=username,
                password=password,
                role=role,
                reseller=bound_to,
                email=email,
            )
        except DomainError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        binding = f'reseller "{bound_to.name}"' if bound_to else "the whole server"
        if role == Role.ADMIN:
            binding = "the whole server"
        self.stdout.write(f'Created user "{user.username}" with role {role} for {binding}.')

    def _reseller(self, name: str | None) -> Reseller | None:
        if name is None:
            return None
        reseller = Reseller.objects.filter(name__iexact=name.strip()).first()
        if reseller is None:
            raise CommandError(f'There is no reseller named "{name}".')
        return reseller

    def _password(self) -> str:
        password = os.environ.get(PASSWORD_VARIABLE)
        if password:
            return password
        if not sys.stdin or not sys.stdin.isatty():
            raise CommandError(
                f"No password: set {PASSWORD_VARIABLE} or run the command on a terminal "
                "to be asked for one."
            )
        first = getpass.getpass("Password: ")
        second = getpass.getpass("Password (again): ")
        if first != second:
            raise CommandError("The two passwords differ.")
        return first
