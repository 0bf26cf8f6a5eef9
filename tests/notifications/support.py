"""Helpers for the notification tests: a CallerID under a reseller with a threshold, charges
through the PBX API's service, and a local webhook receiver."""

from __future__ import annotations

import json
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.utils import timezone

from credit.services.calls import CallReport, report_call
from notifications.models import ChannelSettings
from notifications.selectors import forget_thresholds, server_settings
from tenancy.audit import SYSTEM
from tenancy.services.tokens import create_token

D = Decimal


def set_channels(reseller, *, threshold=None, emails=(), webhook_url="", secret="whsec_test"):
    row, _ = ChannelSettings.objects.get_or_create(reseller=reseller)
    row.low_credit_threshold = threshold
    row.emails = "\n".join(emails)
    row.webhook_url = webhook_url
    row.webhook_secret = secret if webhook_url else ""
    row.save()
    forget_thresholds()
    return row


def allow_private(allowed=True):
    row = server_settings()
    row.allow_private_webhooks = allowed
    row.save()


class Charger:
    """Reports calls of a given cost against one CallerID, as the PBX would."""

    def __init__(self, extension, callerid):
        self.extension = extension
        self.callerid = callerid
        self.token = create_token(actor=SYSTEM, name=f"pbx-{callerid.pk}", reseller=None).token
        self.count = 0

    def charge(self, cost, call_id=None):
        self.count += 1
        report = CallReport(
            call_id=call_id or f"c-{self.callerid.pk}-{self.count}",
            extension=self.extension.number,
            callerid_id=self.callerid.pk,
            caller_id=self.callerid.number,
            destination="+4031000000",
            started_at=timezone.now(),
            duration_seconds=60,
            cost=D(cost),
        )
        return report_call(token=self.token, report=report, actor=SYSTEM)


class Receiver:
    """A real HTTP server on 127.0.0.1:<port> that answers each POST with the next scripted
    answer: an HTTP status, or ("sleep", seconds) before a 200."""

    def __init__(self, port: int, answers):
        self.port = port
        self.answers = list(answers)
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                answer = receiver.answers.pop(0) if receiver.answers else 200
                if isinstance(answer, tuple):
                    time.sleep(answer[1])
                    answer = 200
                try:
                    self.send_response(answer)
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/cbm"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def json(self, index=-1) -> dict:
        return json.loads(self.requests[index]["body"])
