"""The position exit tests use the trading pages' desk (a still sandbox, a small team, no mocks)."""

from tests.trading.pages.conftest import (  # noqa: F401
    _fast_passwords,
    closes_session,
    desk,
    exchange_urls,
)
