"""What every panel form view does with a POST: bind the form to it, and show a service's
refusal on it, next to the field the refusal names (values.errors.DomainError) or at the
top of the form when it names none or a field the form does not show."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from values.errors import DomainError


def posted(request):
    """The POST data to bind a form to (even an empty one, so it shows what is missing),
    or None on GET."""
    return request.POST if request.method == "POST" else None


def add_refusal(form, exc: ValidationError) -> None:
    """Add a service's refusal to the form. A form whose fields are named differently from
    the service's arguments maps them in `service_fields` ({"password": "password1"})."""
    if isinstance(exc, DomainError):
        by_field = exc.by_field()
    elif hasattr(exc, "error_dict"):  # a model validator's error
        by_field = {
            name: ValidationError(errors).messages for name, errors in exc.error_dict.items()
        }
    else:
        form.add_error(None, exc)
        return
    aliases = getattr(form, "service_fields", {})
    for name, messages in by_field.items():
        name = aliases.get(name, name)
        form.add_error(name if name in form.fields else None, messages)
