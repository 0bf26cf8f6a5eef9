"""manage.py create_api_token "<name>" [--reseller "<name>"] [--permission pbx|provisioning]...:
prints the token once (SPEC §10, §13)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenancy.audit import SYSTEM
from tenancy.models import Reseller, TokenPermission
from tenancy.services.tokens import create_token


class Command(BaseCommand):
    help = "Create an API token for a PBX and print it once (whole server, or one reseller)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="What the token is for, e.g. the PBX's name.")
        parser.add_argument(
            "--reseller", help="Limit the token to this reseller (its name, any case)."
        )
        parser.add_argument(
            "--permission",
            action="append",
            dest="permissions",
            choices=TokenPermission.values,
            help="What the token may call; repeat for both (default: pbx).",
        )

    def handle(self, *args, name, reseller=None, permissions=None, **options):
        scope = None
        if reseller is not None:
            scope = Reseller.objects.filter(name__iexact=reseller.strip()).first()
            if scope is None:
                raise CommandError(f"No reseller named “{reseller}”.")
        try:
            created = create_token(
                actor=SYSTEM,
                name=name,
                reseller=scope,
                permissions=permissions or [TokenPermission.PBX],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        where = f"reseller {scope.name}" if scope else "the whole server"
        allowed = ", ".join(created.token.permissions)
        self.stdout.write(f"Created API token “{created.token.name}” for {where} ({allowed}).")
        self.stdout.write("Store it now; it is not shown again:")
        self.stdout.write(created.plaintext)
