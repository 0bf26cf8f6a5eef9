"""Webhooks (SPEC §12): the address guard, the signature, and one POST.

The guard resolves the host once and connects to the very address it checked (no second
DNS lookup that a rebinding name could answer differently). Unless the server settings
allow it, every resolved address must be public: loopback, private, link-local, shared
(100.64/10), multicast, reserved and unspecified addresses are refused. Redirects are
not followed (a 3xx is a failed attempt).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from values.errors import DomainError

TIMEOUT_SECONDS = 5.0
SIGNATURE_HEADER = "X-CBM-Signature"


class WebhookRefused(DomainError):
    """The URL may not be used (scheme, host, or an address the guard refuses)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


def _refused_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def check_webhook_url(url: str, *, allow_private: bool) -> Target:
    """The address to POST to, or WebhookRefused saying why not."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise WebhookRefused("A webhook URL must start with http:// or https://.")
    if not parts.hostname:
        raise WebhookRefused("A webhook URL needs a host name.")
    if parts.username or parts.password:
        raise WebhookRefused("Put no user name or password in the webhook URL.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookRefused("The webhook URL has a bad port.") from None
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise WebhookRefused(f"The host {parts.hostname} cannot be resolved.") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise WebhookRefused(f"The host {parts.hostname} cannot be resolved.")
    if not allow_private:
        for address in addresses:
            if _refused_address(address):
                raise WebhookRefused(
                    f"The host {parts.hostname} resolves to {address}, a loopback, private "
                    "or link-local address; an administrator can allow such addresses in "
                    "the server's notification settings."
                )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, port, path, str(addresses[0]))


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-CBM-Signature value: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = target.address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(
    url: str, *, body: bytes, secret: str, timestamp: int, allow_private: bool
) -> tuple[bool, str]:
    """POST the body once; (delivered: a 2xx answer, what to show as the last answer)."""
    try:
        target = check_webhook_url(url, allow_private=allow_private)
    except WebhookRefused as exc:
        return False, f"refused: {exc.messages[0]}"
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    conn = cls(target, TIMEOUT_SECONDS)
    host = target.host if ":" not in target.host else f"[{target.host}]"
    default_port = 443 if target.scheme == "https" else 80
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "CallbackManager-Webhook/1",
        "Host": host if target.port == default_port else f"{host}:{target.port}",
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(2048)
    except TimeoutError:
        return False, f"timeout after {TIMEOUT_SECONDS:.0f} s"
    except (OSError, http.client.HTTPException) as exc:
        return False, f"error: {exc.__class__.__name__}: {exc}"[:300]
    finally:
        conn.close()
    answer = f"HTTP {response.status} {response.reason}"[:300]
    return 200 <= response.status < 300, answer
