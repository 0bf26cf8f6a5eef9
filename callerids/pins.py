"""PIN hashing (SPEC §5.5): HMAC-SHA256 keyed with PIN_PEPPER over a per-row salt and the PIN.

A fast keyed hash on purpose: guessing is stopped by the wrong-PIN lock (SPEC §9), and the
pepper lives outside the database, so a stolen database alone does not reveal PINs.
"""

import hmac
import re
import secrets

from django.conf import settings

PIN_RE = re.compile(r"^[0-9]{4,10}$")


def is_valid_pin(pin: str) -> bool:
    return bool(PIN_RE.match(pin or ""))


def hash_pin(pin: str, salt: str | None = None) -> tuple[str, str]:
    """Return (salt, hex digest) for pin; a new random salt unless one is given."""
    salt = salt or secrets.token_hex(16)
    digest = hmac.digest(settings.PIN_PEPPER.encode(), f"{salt}:{pin}".encode(), "sha256").hex()
    return salt, digest


def check_pin(pin: str, salt: str, digest: str) -> bool:
    """Constant-time comparison of pin against a stored salt and digest."""
    if not digest:
        return False
    return hmac.compare_digest(hash_pin(pin or "", salt)[1], digest)
