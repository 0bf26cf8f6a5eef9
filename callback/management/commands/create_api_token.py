"""manage.py create_api_token "<name>" [--reseller "<name>"]: prints the token once (SPEC §10)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from callback.audit import SYSTEM
from callback.models import Reseller
from callback.services.tokens import create_token


class Command(BaseCommand):
    help = "Create an API token for a PBX and print it once (whole server, or one reseller)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="What the token is for, e.g. the PBX's name.")
        parser.add_argument(
            "--reseller", help="Limit the token to this reseller (its name, any case)."
        )

    def handle(self, *args, name, reseller=None, **options):
        scope = None
        if reseller is not None:
            scope = Reseller.objects.filter(name__iexact=reseller.strip()).first()
            if scope is None:
                raise CommandError(f"No reseller named “{reseller}”.")
        try:
            created = create_token(actor=SYSTEM, name=name, reseller=scope)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        where = f"reseller {scope.name}" if scope else "the whole server"
        self.stdout.write(f"Created API token “{created.token.name}” for {where}.")
        self.stdout.write("Store it now; it is not shown again:")
        self.stdout.write(created.plaintext)
