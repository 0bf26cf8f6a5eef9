"""{% load money %}: {% money value %} formats an amount with the server's shown decimals,
{% currency %} names the server's currency. Both read `charging_preferences` from the
template's context (credit.context_processors, or the view's own copy)."""

from django import template

from tenancy.preferences import get_preferences
from values.money import format_amount

register = template.Library()


def _preferences(context):
    preferences = context.get("charging_preferences")
    return preferences if preferences is not None else get_preferences()


@register.simple_tag(takes_context=True)
def money(context, value, unlimited=False):
    """{% money value %} -> "12.50"; None or unlimited -> "Unlimited"."""
    return format_amount(value, _preferences(context).decimals, unlimited=bool(unlimited))


@register.simple_tag(takes_context=True)
def currency(context):
    return _preferences(context).currency
