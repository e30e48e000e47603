"""What every signed route reads the same way: the subaccount, a known symbol, paging and
the spec's page headers, the ``marketType`` filter."""

from __future__ import annotations

from starlette.responses import Response

from sandbox.engine.queries import Page
from sandbox.server.errors import ApiError, bad_request
from sandbox.server.public import MARKET_TYPES
from sandbox.server.routing import Call, json_response

SORT_DIRECTIONS = ("Asc", "Desc")


def subaccount_of(call: Call) -> int:
    if call.subaccount is None:  # only signed routes call this
        raise ApiError(401, "UNAUTHORIZED", "Missing X-API-Key Header")
    return call.subaccount


def known_symbol(call: Call, *, required: bool) -> str | None:
    symbol = call.params.string("symbol", required=required)
    if symbol is not None:
        call.sandbox.engine.market(symbol)
    return symbol


def page_params(call: Call) -> tuple[int, int]:
    limit = call.params.integer("limit", minimum=1, maximum=1000, default=100)
    offset = call.params.integer("offset", default=0)
    return limit, offset


NO_MARKETS = "<none>"
PAGE_HEADERS = "X-Page-Count, X-Current-Page, X-Page-Size, X-Total"


def paged(page: Page) -> Response:
    """A history page with the spec's page headers: ``X-Total`` rows match the filters,
    ``X-Page-Size`` is the limit, ``X-Current-Page`` the 1-based page the offset falls in,
    ``X-Page-Count`` the pages of that size the rows fill."""
    response = json_response(page)
    size = page.limit
    response.headers["X-Total"] = str(page.total)
    response.headers["X-Page-Size"] = str(size)
    response.headers["X-Current-Page"] = str(page.offset // size + 1)
    response.headers["X-Page-Count"] = str(-(-page.total // size))
    response.headers["Access-Control-Expose-Headers"] = PAGE_HEADERS
    response.headers["Cache-Control"] = "no-store"
    return response


def market_types_filter(call: Call) -> str | None:
    """The ``marketType`` filter (the spec allows it repeated) as the engine's one type.

    None: no filter; ``NO_MARKETS``: only types the sandbox has no markets of.
    """
    raw = call.params.values.get("marketType")
    wanted = raw if isinstance(raw, list) else ([raw] if raw else [])
    for market_type in wanted:
        if market_type not in MARKET_TYPES:
            raise bad_request(f"Invalid parameter `marketType`: {market_type!r} is unknown")
    listed = {m.market_type for m in call.sandbox.seed.markets}
    chosen = set(wanted) & listed
    if not wanted or chosen == listed:
        return None
    if not chosen:
        return NO_MARKETS
    return chosen.pop() if len(chosen) == 1 else None
