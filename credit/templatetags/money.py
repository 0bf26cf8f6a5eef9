"""{% load money %}: {{ value|money }} formats an amount with the server's shown decimals."""

from django import template

from tenancy.preferences import get_preferences
from values.money import format_amount

register = template.Library()


def _decimals(context) -> int:
    request = context.get("request")
    cached = getattr(request, "_charging_preferences", None) if request is not None else None
    if cached is None:
        cached = get_preferences()
        if request is not None:
            request._charging_preferences = cached
    return cached.decimals


@register.simple_tag(takes_context=True)
def money(context, value, unlimited=False):
    """{% money value %} -> "12.50"; None or unlimited -> "Unlimited"."""
    return format_amount(value, _decimals(context), unlimited=bool(unlimited))


@register.simple_tag(takes_context=True)
def currency(context):
    request = context.get("request")
    _decimals(context)
    return (
        request._charging_preferences.currency
        if request is not None
        else get_preferences().currency
    )
