"""manage.py demo_banner: what `make run` prints once the demo server is ready.

The demo logins, the address, a working API token and the README's first API example.
A token is shown only once (SPEC §2), so every start makes a new demo token and revokes
the one before it: the token printed is always one that works.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from demo.credit import DEMO_TOKEN_NAME
from demo.tenancy import API_EXAMPLE, DEMO_PASSWORD, USERS
from tenancy.audit import SYSTEM
from tenancy.models import ApiToken
from tenancy.services.tokens import create_token, revoke_token


class Command(BaseCommand):
    help = "Print the demo logins, the URL and a fresh demo API token (DEBUG only)."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="The server's URL.")
        parser.add_argument("--force", action="store_true", help="Run even when DEBUG is off.")

    def handle(self, *args, url, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("demo_banner refuses to run with DEBUG off; pass --force to insist.")
        url = url if url.endswith("/") else url + "/"
        for token in ApiToken.objects.filter(name=DEMO_TOKEN_NAME, revoked_at__isnull=True):
            revoke_token(actor=SYSTEM, token=token)
        plaintext = create_token(actor=SYSTEM, name=DEMO_TOKEN_NAME, reseller=None).plaintext

        existing = set(get_user_model().objects.values_list("username", flat=True))
        write = self.stdout.write
        write("")
        write(self.style.SUCCESS(f"Callback Manager: {url}"))
        write(f'Demo logins (password "{DEMO_PASSWORD}"):')
        for username, role, reseller_name in USERS:
            if username in existing:
                scope = f"reseller {reseller_name}" if reseller_name else "whole server"
                write(f"  {username:<15} {role:<9} {scope}")
        write("API token of the demo PBX (new at every start; the previous one is revoked):")
        write(f"  export TOKEN={plaintext}")
        write('Ask the API about an authorized demo caller (answers "decision": "callback"):')
        for line in API_EXAMPLE.format(url=url).splitlines():
            write(f"  {line}")
        write("Press Ctrl+C to stop.")
        write("")
