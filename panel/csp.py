"""The Content-Security-Policy header of every response (issue 16 item 13).

Scripts come only from this site's static files: no inline script, no `on…=` handler, no
eval. Styles come from this site's static files too; no `style="…"` attribute is allowed
either ('unsafe-inline' stays out of style-src). The one inline <style> element the panel
has is the one pygal writes inside the cost report's SVG chart (its CSS is scoped to the
chart's generated id): it carries the request's nonce (request.csp_nonce).
"""

from __future__ import annotations

import secrets

from django.conf import settings

HEADER = "Content-Security-Policy"


def policy(nonce: str) -> str:
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        f"style-src 'self' 'nonce-{nonce}'",
        # Bootstrap's CSS draws its icons (select arrow, close button, checks) as data: SVG.
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        if settings.DEBUG and response.status_code in (404, 500):
            # Django's technical error pages (DEBUG only) are built on inline CSS and script.
            return response
        response.setdefault(HEADER, policy(request.csp_nonce))
        return response
