"""The asset symbols the exchange lists, for forms that check an asset name (sync views)."""

from __future__ import annotations

import time

from asgiref.sync import async_to_sync
from django.conf import settings

from trading.backpack import BackpackError, ExchangeSession, Market
from trading.backpack.retry import RetryPolicy

ASSET_NAMES_TTL_S = 60.0
_asset_names: dict[str, tuple[float, frozenset[str]]] = {}


def exchange_asset_names() -> tuple[frozenset[str] | None, str]:
    """The asset symbols the exchange lists (bases and quotes of its markets) and "", or None
    and the reason when it cannot be read. For sync views (forms that check asset names);
    a successful read is shared for a minute."""
    url = settings.BACKPACK_API_URL
    hit = _asset_names.get(url)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1], ""

    async def read() -> list[Market]:
        # A session of its own: this runs in whatever loop async_to_sync provides.
        session = ExchangeSession(api_url=url, retry=RetryPolicy(attempts=2))
        async with session:
            return await session.client(None, label="public").markets()

    try:
        markets = async_to_sync(read)()
    except BackpackError as error:
        return None, error.message
    names = frozenset(a for m in markets for a in (m.base_symbol, m.quote_symbol))
    _asset_names[url] = (time.monotonic() + ASSET_NAMES_TTL_S, names)
    return names, ""


def forget_asset_names() -> None:
    """Drop the shared read, so the next form asks the exchange again."""
    _asset_names.clear()
