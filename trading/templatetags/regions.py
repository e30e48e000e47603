"""``{% live_region region %}``: include a live region's partial with its own context.

A `trading.live_regions.Region` is a partial and the context it is rendered with; pages
include it where it stands (the first render), the relay and htmx answers send the same
partial rendered (``Region.render``), so a region looks the same however it arrives.
"""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from trading.live_regions import Region

register = template.Library()


@register.simple_tag
def live_region(region: Region | None) -> SafeString | str:
    """The region's partial rendered with its context (nothing for None)."""
    if region is None:
        return ""
    # A template's output, escaped by that template: Django's backend returns it as a
    # SafeString already, the Jinja2 backend (book, trades, statistics: trading/jinja.py) as str.
    return mark_safe(region.render())  # noqa: S308
