"""``{% live_region region %}``: include a live region's partial with its own context.

A `trading.live_regions.Region` is a partial and the context it is rendered with; pages
include it where it stands (the first render), the relay and htmx answers send the same
partial rendered (``Region.render``), so a region looks the same however it arrives.
"""

from __future__ import annotations

from django import template
from django.template.loader import get_template
from django.utils.safestring import SafeString

from trading.live_regions import Region

register = template.Library()


@register.simple_tag
def live_region(region: Region | None) -> SafeString | str:
    """The region's partial rendered with its context (nothing for None)."""
    if region is None:
        return ""
    return get_template(region.template).render(region.context)
