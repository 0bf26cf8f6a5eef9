"""The client's address (SPEC §2): the peer, or the matching X-Forwarded-For entry.

With TRUSTED_PROXY_COUNT = n > 0, the n-th entry from the right of X-Forwarded-For is the
address the outermost trusted proxy saw; anything left of it could be forged by the client.
Audit events and login throttling both use this one rule.
"""

import ipaddress

from django.conf import settings


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_address(request) -> str | None:
    peer = _valid(request.META.get("REMOTE_ADDR", "") or "")
    count = settings.TRUSTED_PROXY_COUNT or 0
    if count <= 0:
        return peer
    forwarded = [p for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
    if len(forwarded) < count:
        return peer
    return _valid(forwarded[-count]) or peer


def axes_client_address(request) -> str:
    return client_address(request) or "0.0.0.0"
