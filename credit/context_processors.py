"""The charging preferences of every page, read at most once a request and only when a
template asks for them (the {% money %} and {% currency %} tags, credit/templatetags)."""

from django.utils.functional import SimpleLazyObject

from tenancy.preferences import get_preferences


def charging_preferences(request):
    """A view that has read the preferences already passes them as `charging_preferences`
    in its own context, which takes precedence over this one."""
    return {"charging_preferences": SimpleLazyObject(get_preferences)}
