"""The fragment functions the views and the relay share: pure data in, HTML out."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from trading import fragments
from trading.backpack import Kline, Market, Order, Position, Trade
from trading.backpack.book import OrderBook

MARKET_WIRE = {
    "symbol": "SOL_USDC",
    "baseSymbol": "SOL",
    "quoteSymbol": "USDC",
    "marketType": "SPOT",
    "orderBookState": "Open",
    "filters": {
        "price": {"minPrice": "0.01", "tickSize": "0.01"},
        "quantity": {"minQuantity": "0.01", "stepSize": "0.01"},
    },
}
MARKET = Market.from_wire(MARKET_WIRE)


def _book() -> OrderBook:
    book = OrderBook("SOL_USDC")
    book.load_snapshot([["149.5", "2"], ["149", "6"]], [["150", "4"], ["151", "1E+1"]], 7)
    return book


def test_book_levels_carry_prices_for_the_ticket_and_cumulative_depth() -> None:
    html = fragments.book_html(MARKET, _book())

    assert html.startswith('<div id="book-SOL_USDC" class="book" hx-swap-oob="true">')
    assert 'data-price="149.50" style="--depth: 14.3%"' in html  # 2 of max cumulative 14
    assert 'data-price="151.00" style="--depth: 100.0%"' in html  # 4 + 10 (no exponent)
    assert "14.00" in html and "E+1" not in html
    assert "spread 0.50" in html
    assert html.index('data-price="151.00"') < html.index('data-price="150.00"')  # asks top-down


def test_book_levels_are_limited() -> None:
    book = OrderBook("SOL_USDC")
    book.load_snapshot([[str(100 - i), "1"] for i in range(30)], [], 1)

    html = fragments.book_html(MARKET, book, levels=20, oob=False)

    assert html.count('class="book-row bid"') == 20
    assert "hx-swap-oob" not in html


def test_trades_newest_first_coloured_by_taker_side() -> None:
    trades = [
        Trade(2, Decimal("150.1"), Decimal("0.5"), Decimal("75.05"), 1_750_000_060_000, True),
        Trade(1, Decimal("150"), Decimal("1"), Decimal("150"), 1_750_000_000_000, False),
    ]

    html = fragments.trades_html(MARKET, trades)

    assert html.index("150.10") < html.index("150.00")
    assert '<td class="ask">150.10</td>' in html  # buyer was maker: a sell
    assert '<td class="bid">150.00</td>' in html


def test_kline_fragment_carries_the_candle_as_data_attributes() -> None:
    kline = Kline(
        start=datetime(2025, 1, 1, 0, 1, tzinfo=UTC),
        end=datetime(2025, 1, 1, 0, 2, tzinfo=UTC),
        open=Decimal("95"),
        high=Decimal("96.50"),
        low=Decimal("94"),
        close=Decimal("95.5"),
        volume=Decimal("3"),
        quote_volume=Decimal("286"),
        trades=4,
    )

    html = fragments.kline_html(MARKET, kline, "1m")

    assert 'id="kline-SOL_USDC"' in html and 'hx-swap-oob="true"' in html
    assert 'data-interval="1m"' in html
    assert f'data-time="{int(kline.start.timestamp())}"' in html
    assert 'data-high="96.5"' in html and 'data-close="95.5"' in html


def test_an_account_event_from_the_stream_becomes_a_feed_row() -> None:
    class Sub:
        pk = 3
        name = "Main desk"

    event = {
        "e": "orderFill",
        "E": 1_750_000_000_000_000,
        "s": "SOL_USDC",
        "S": "Bid",
        "l": "0.50",
        "L": "150.10",
        "q": "1",
        "i": "42",
    }

    html = fragments.account_event_html(Sub(), event, {"SOL_USDC": MARKET})
    unknown = fragments.account_event_html(Sub(), {**event, "L": "150.1"})

    assert html.startswith('<div id="account-events" hx-swap-oob="afterbegin">')
    # with the market's tick and step, as the orders and positions beside it show them
    assert "Main desk" in html and "filled 0.50 @ 150.10" in html
    assert 'data-event="orderFill"' in html
    assert "filled 0.5 @ 150.1" in unknown  # a market the desk does not know: as sent


def test_open_orders_error_replaces_the_table() -> None:
    class Sub:
        pk = 9
        name = "Desk"

    html = fragments.open_orders_html(
        Sub(), [], can_trade=True, error="exchange unreachable: x", senders=None
    )

    assert 'id="open-orders-9"' in html and "exchange unreachable: x" in html
    assert "<table" not in html


def test_a_position_event_shows_side_size_and_entry() -> None:
    class Sub:
        pk = 3
        name = "Main desk"

    opened = {
        "e": "positionOpened",
        "E": 1_750_000_000_000_000,
        "s": "SOL_USDC_PERP",
        "q": "-2",
        "B": "95.5",
        "p": "0",
        "P": "0",
    }
    closed = {
        "e": "positionClosed",
        "E": 1_750_000_000_000_000,
        "s": "SOL_USDC_PERP",
        "q": "0",
        "B": "95.5",
    }

    perp = Market.from_wire({**MARKET_WIRE, "symbol": "SOL_USDC_PERP", "marketType": "PERP"})
    markets = {"SOL_USDC_PERP": perp}
    opened_html = fragments.account_event_html(Sub(), opened, markets)
    adjusted_html = fragments.account_event_html(
        Sub(), {**opened, "e": "positionAdjusted", "B": "158.75154213"}, markets
    )
    closed_html = fragments.account_event_html(Sub(), closed, markets)

    assert '<span class="ask">Short</span> position opened 2.00 @ 95.50' in opened_html
    assert "position adjusted 2.00 @ 158.75<" in adjusted_html  # the entry at the tick
    assert "position closed" in closed_html and "@" not in closed_html


def test_position_rows_show_prices_by_tick_sizes_by_step_and_values_in_usdc() -> None:
    position = Position.from_wire(
        {"symbol": "SOL_USDC", "netQuantity": "-2", "entryPrice": "95", "breakEvenPrice": "95.1",
         "markPrice": "94.5", "estLiquidationPrice": "140.123456", "netExposureNotional": "1890",
         "pnlRealized": "0", "pnlUnrealized": "1.5", "positionId": "9"}
    )  # fmt: skip

    row = fragments.position_row(position, MARKET, liquidation=Decimal("139.987654321"))

    assert (row["side"], row["size"], row["entry"], row["mark"]) == (
        "Short",
        "2.00",
        "95.00",
        "94.50",
    )
    assert (row["liquidation"], row["exchange_liquidation"]) == ("139.99", "140.12")
    assert (row["notional"], row["pnl"], row["realized"]) == ("1,890.00", "1.50", "0.00")


def test_order_rows_show_price_and_quantities_by_the_market() -> None:
    order = Order.from_wire(
        {"id": "7", "symbol": "SOL_USDC", "side": "Bid", "orderType": "Limit", "price": "120.5",
         "quantity": "1.250000", "executedQuantity": "0", "status": "New"}
    )  # fmt: skip

    row = fragments.order_row(order, MARKET)

    assert (row["price"], row["quantity"], row["filled"]) == ("120.50", "1.25", "0.00")
    assert fragments.order_row(order)["price"] == "120.5"  # market unknown: as sent, no zeros


def test_a_position_exit_row_says_its_share_of_the_position_and_its_trigger() -> None:
    order = Order.from_wire(
        {"id": "8", "symbol": "SOL_USDC", "side": "Ask", "orderType": "Market",
         "triggerPrice": "140", "triggerQuantity": "33.333333333%", "executedQuantity": "0",
         "status": "TriggerPending", "timeInForce": "IOC", "reduceOnly": True}
    )  # fmt: skip

    row = fragments.order_row(order, MARKET)

    assert (row["kind"], row["quantity"]) == (
        "Stop market IOC, trigger 140.00",
        "33.33% of position",
    )


def test_an_account_event_frame_that_does_not_read_gives_a_row_saying_so() -> None:
    class Sub:
        pk = 3
        name = "Main desk"

    bad_price = {"e": "orderFill", "E": 1_750_000_000_000_000, "s": "SOL_USDC", "L": "abc"}
    no_kind = {"s": "SOL_USDC", "q": "1"}

    bad_html = fragments.account_event_html(Sub(), bad_price)
    no_kind_html = fragments.account_event_html(Sub(), no_kind)

    assert "SOL_USDC" in bad_html and "unreadable update (field &#x27;L&#x27;)" in bad_html
    assert 'data-event="unreadable"' in bad_html and "abc" not in bad_html
    assert "unreadable update (field &#x27;e&#x27;)" in no_kind_html
