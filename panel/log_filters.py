"""Logging filters (settings.LOGGING).

A refused request (403, and a 404 for an object outside the user's scope) is an ordinary
event: Django logs it with the exception's traceback; ConciseRefusals turns that record into
one line naming the user, the path and the reason. Server errors (5xx) keep their traceback.
"""

from __future__ import annotations

import logging


def _user_of(request) -> str:
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous"
    return user.get_username()


class ConciseRefusals(logging.Filter):
    """On django.request: a 4xx record loses its traceback and says who, where and why."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is None or not 400 <= status < 500:
            return True
        request = getattr(record, "request", None)
        exc = record.exc_info[1] if record.exc_info else None
        reason = str(exc) if exc is not None and str(exc) else record.getMessage().split(":")[0]
        record.msg = "%s %s user=%s path=%s reason=%s"
        record.args = (
            status,
            getattr(request, "method", "-"),
            _user_of(request),
            getattr(request, "path", "-"),
            reason,
        )
        record.exc_info = None
        record.exc_text = None
        return True
