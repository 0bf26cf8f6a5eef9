"""Which HTTP methods a panel address answers. Every view says it once, with one of three
decorators, so a method it does not expect answers 405 Method Not Allowed (with an `Allow`
header) before the view runs, whoever asks:

- Django's `require_safe`: a page with nothing to submit (a list, a detail page, a report,
  a download, the JSON a page polls). GET and HEAD.
- `require_form` (below): a page with a form that posts to its own address. GET and HEAD
  show it, POST submits it.
- Django's `require_POST`: the target of a button (activate, delete, retry, release).

HEAD answers wherever GET does: Django runs the GET and the server drops the body.
Class-based views (login, password change) wrap their `dispatch` with `require_form`.
Without a declaration a view runs any method as a GET: a POST to a list answered 200.
tests/test_url_permissions.py holds every panel address to these rules.
"""

from django.views.decorators.http import require_http_methods

FORM_METHODS = ["GET", "HEAD", "POST"]

require_form = require_http_methods(FORM_METHODS)
