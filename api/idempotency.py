"""`Idempotency-Key` on the provisioning API's writes (SPEC §13).

A write sent with a key runs in one transaction that first inserts the key's row
(token, key, fingerprint of the request), then calls the service, then stores the answer
on that row. So:
- the same key sent again after the first committed finds the row: the same request
  (method, path and body) gets the stored answer and changes nothing; another request
  gets 409 `idempotency_conflict`;
- the same key sent at the same moment: the second INSERT waits on the unique index until
  the first commits (PostgreSQL), then fails and reads the stored answer. On SQLite every
  write transaction is IMMEDIATE, so the two run one after the other;
- a refused write (an ApiError, a domain error) rolls back the key's row with everything
  else: nothing is stored, and the same key may be sent again once the cause is fixed.
Keys belong to a token: two tokens may use the same key for different requests.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from ninja import Status

from api.errors import IDEMPOTENCY_CONFLICT, VALIDATION_FAILED, ApiError
from api.models import IdempotencyKey

HEADER = "Idempotency-Key"
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def _key_of(request: HttpRequest) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _KEY_RE.match(key):
        raise ApiError(
            422,
            VALIDATION_FAILED,
            f"{HEADER} must be 1 to 255 printable ASCII characters without spaces.",
            {HEADER: ["1 to 255 printable ASCII characters without spaces, e.g. a UUID."]},
        )
    return key


def run_write(request: HttpRequest, write: Callable[[], tuple[int, dict]]) -> Status:
    """Run `write` (which returns (status, JSON body) or raises ApiError) once per key.

    Without the header, `write` simply runs. With it, see the module's docstring.
    """
    key = _key_of(request)
    if key is None:
        return Status(*write())
    fingerprint = _fingerprint(request)
    with transaction.atomic():
        try:
            # A savepoint: losing the race for the key leaves this transaction usable.
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    token=request.auth,
                    key=key,
                    fingerprint=fingerprint,
                    status_code=0,
                    response={},
                )
        except IntegrityError:
            row = IdempotencyKey.objects.get(token=request.auth, key=key)
            if row.fingerprint != fingerprint:
                raise ApiError(
                    409,
                    IDEMPOTENCY_CONFLICT,
                    f"This {HEADER} was already used for another request.",
                ) from None
            return Status(row.status_code, row.response)
        status, body = write()
        row.status_code = status
        row.response = body
        row.save(update_fields=["status_code", "response"])
    return Status(status, body)
