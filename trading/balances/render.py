"""Template contexts of the balances blocks: plain dicts holding Decimals, and the blocks'
asset rows and sparklines rendered once per value.

Django resolves `{{ row.total }}` on a dict with one lookup, on an object only after a failed
dict lookup (an exception), so the templates get dicts. Values stay Decimal; the templates
format them.

Rows and sparklines are frozen values, and a page shows the same ones several times within
the read cache's 2 s (its blocks, the totals request, a refresh), so each is rendered by its
own small template once per distinct value and kept (`row_html`, `sparkline_html`): a block
re-rendered from the same reads costs a couple of dozen template variables, not ~150.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.dispatch import receiver
from django.template.loader import get_template
from django.utils.autoreload import file_changed
from django.utils.safestring import SafeString, mark_safe

from trading.balances.readmodel import SubaccountBalances
from trading.balances.sparkline import Sparkline
from trading.balances.valuation import AssetRow


def _row(row: AssetRow) -> dict[str, Any]:
    value = row.value_usdc
    quote = row.quote
    return {
        "asset": row.asset,
        "available": row.available,
        "locked": row.locked,
        "staked": row.staked,
        "total": row.total,
        "total_text": row.total_text,
        "places": row.places,
        "quote": None
        if quote is None
        else {
            "price_text": quote.price_text,
            "note": quote.note,
            "source": quote.source.value,
            "symbol": quote.symbol,
        },
        "value_usdc": value,
        "value_text": row.value_text,
        "minimum": row.minimum,
        "minimum_text": row.minimum_text,
        "below_threshold": row.below_threshold,
    }


def _line(line: Sparkline) -> dict[str, Any]:
    return {
        "label": line.label,
        "points": line.points,
        "count": line.count,
        "first": line.first,
        "last": line.last,
        "low": line.low,
        "high": line.high,
        "change": line.change,
        "rising": line.rising,
        "width": line.width,
        "height": line.height,
    }


# Enough for every row of a few hundred subaccounts over a couple of reads; old prices fall out.
_RENDERED_MAX = 4096


@lru_cache(maxsize=_RENDERED_MAX)
def row_html(row: AssetRow) -> SafeString:
    """The `<tr>` of one asset row (`partials/balances_row.html`), rendered once per value."""
    html = get_template("trading/partials/balances_row.html").render({"row": _row(row)})
    return mark_safe(html.strip())  # the template escaped every value


@lru_cache(maxsize=_RENDERED_MAX)
def sparkline_html(line: Sparkline) -> SafeString:
    """The `<figure>` of one sparkline (`partials/balances_sparkline.html`), rendered once."""
    html = get_template("trading/partials/balances_sparkline.html").render({"line": _line(line)})
    return mark_safe(html.strip())  # the template escaped every value


@receiver(file_changed, dispatch_uid="balances-rendered-rows")
def _template_edited(sender: object, file_path: Any, **kwargs: Any) -> None:
    # The development server reloads edited templates without a restart: so do these.
    if str(file_path).endswith(".html"):
        row_html.cache_clear()
        sparkline_html.cache_clear()


def block_context(view: SubaccountBalances) -> dict[str, Any]:
    """What `partials/balances_subaccount.html` needs about one subaccount."""
    perp = view.perp
    return {
        "subaccount_id": view.subaccount_id,
        "name": view.name,
        "ok": view.ok,
        "error": view.error,
        "rows": [row_html(r) for r in view.rows],
        "value_usdc": view.value_usdc,
        "value_text": view.value_text,
        "unvalued_assets": view.unvalued_assets,
        "below_threshold": bool(view.below_threshold),
        "perp": None
        if perp is None
        else {
            "net_equity": perp.net_equity,
            "net_equity_text": perp.net_equity_text,
            "net_equity_available": perp.net_equity_available,
            "pnl_unrealized": perp.pnl_unrealized,
            "margin_fraction": perp.margin_fraction,
            "imf": perp.imf,
            "mmf": perp.mmf,
        },
        "perp_error": view.perp_error,
        "read_at": view.read_at,
        "sparklines": [
            sparkline_html(x) for x in (view.equity_24h, view.equity_7d) if x is not None
        ],
    }
