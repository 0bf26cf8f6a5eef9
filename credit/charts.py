"""Charts drawn on the server as SVG (pygal): no JavaScript, nothing from a CDN."""

from __future__ import annotations

import re
from decimal import Decimal

import pygal
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

from credit.selectors_cost import DayCost
from values.money import format_money

_SCRIPT_RE = re.compile(r"<script\b.*?</script>", re.S)
_STYLE_TAG_RE = re.compile(r"<style\b")
# The hidden tooltip group of pygal's JavaScript: its style attribute would break the CSP.
_TOOLTIP_STYLE = ' style="opacity: 0" class="tooltip"'

_STYLE = Style(
    background="transparent",
    plot_background="transparent",
    colors=("#0d6efd", "#adb5bd"),
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=12,
    title_font_size=14,
)


def _amount_label(value, decimals: int, currency: str) -> str:
    # pygal hands axis values back as floats; str() keeps their shortest exact spelling.
    amount = value if isinstance(value, Decimal) else Decimal(str(value or 0))
    return format_money(amount, decimals, currency)


# A phone-width variant: drawn at about the width it is shown (390 px screens), so its
# texts keep their size instead of shrinking with a 900-wide drawing; a label a week.
_COMPACT_STYLE = Style(
    background="transparent",
    plot_background="transparent",
    colors=("#0d6efd", "#adb5bd"),
    font_family=_STYLE.font_family,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    title_font_size=14,
)


def cost_charts(
    days: list[DayCost], *, decimals: int, currency: str, nonce: str = ""
) -> dict[str, SafeString]:
    """The wide and the phone-width drawings of one chart (credit/templates/includes/cost_chart.html
    shows the one that fits the screen)."""
    return {
        "wide": cost_per_day_svg(days, decimals=decimals, currency=currency, nonce=nonce),
        "compact": cost_per_day_svg(
            days, decimals=decimals, currency=currency, compact=True, nonce=nonce
        ),
    }


def cost_per_day_svg(
    days: list[DayCost], *, decimals: int, currency: str, compact: bool = False, nonce: str = ""
) -> SafeString:
    """A stacked bar per day: metered and unmetered cost. Safe to inline: every text in it
    is a date, an amount or a fixed label, and pygal escapes what it writes. `compact`:
    the phone-width drawing (the page shows one or the other by screen width).

    The Content-Security-Policy allows no style attribute and no inline <style> without
    the request's nonce: pygal's <style> elements get `nonce`, its one style attribute
    (the tooltip of its JavaScript, not loaded here) is dropped (app.css hides it)."""
    many = len(days) > (7 if compact else 40)
    chart = pygal.StackedBar(
        js=[],
        disable_xml_declaration=True,
        style=_COMPACT_STYLE if compact else _STYLE,
        width=360 if compact else 900,
        height=300 if compact else 320,
        legend_at_bottom=True,
        x_label_rotation=0 if compact or len(days) <= 16 else -45,
        show_minor_x_labels=not many,
        x_labels_major_every=7 if many else None,
        truncate_label=-1,
        value_formatter=lambda value: _amount_label(value, decimals, currency),
        y_title=None if compact else f"Cost ({currency})",
        print_values=False,
        include_x_axis=True,
    )
    chart.title = f"Cost per day ({currency})" if compact else "Cost per day"
    chart.x_labels = [day.day.strftime("%d %b") for day in days]
    if many:
        chart.x_labels_major = chart.x_labels[::7]
    chart.add("Metered", [day.metered for day in days])
    chart.add("Unmetered", [day.unmetered for day in days])
    svg = chart.render(is_unicode=True)
    # The config script only feeds pygal's tooltip JavaScript, which the page does not load.
    svg = _SCRIPT_RE.sub("", svg)
    svg = svg.replace(_TOOLTIP_STYLE, ' class="tooltip"')
    if compact:
        # Both drawings are in one page: the legend's ids must not repeat.
        svg = svg.replace('id="activate-serie-', 'id="compact-activate-serie-')
    if nonce:
        svg = _STYLE_TAG_RE.sub(f'<style nonce="{nonce}"', svg)
    return mark_safe(svg)
