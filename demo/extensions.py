"""Demo callback extensions: one of each return mode in every demo organization (idempotent)."""

from callback.models import CallbackExtension, ReturnMode
from tenancy.models import Organization

# (suffix, name, return mode, fixed number)
DEMO_EXTENSIONS = [
    ("001", "Authorized callers", ReturnMode.AUTHORIZED, ""),
    ("002", "Back to the office", ReturnMode.FIXED, "+40721000123"),
    ("003", "Any caller", ReturnMode.CALLER, ""),
]
FIRST_PREFIX = 3  # the first organization's extensions are 0003*001, 0003*002, 0003*003


def seed(stdout) -> None:
    created = 0
    organizations = Organization.objects.order_by("id")
    for index, organization in enumerate(organizations):
        prefix = f"{FIRST_PREFIX + index:04d}"
        for suffix, name, mode, fixed_number in DEMO_EXTENSIONS:
            number = f"{prefix}*{suffix}"
            _, was_created = CallbackExtension.objects.get_or_create(
                number=number,
                defaults={
                    "organization": organization,
                    "name": name,
                    "return_mode": mode,
                    "fixed_number": fixed_number,
                },
            )
            created += was_created
    stdout.write(f"Callback extensions: {created} created.")
