"""Each REST route against the sandbox exchange, over real sockets."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from trading.backpack import (
    Balance,
    Credentials,
    ExchangeSession,
    OrderStatus,
    Side,
    verify_credentials,
)
from trading.backpack.errors import (
    AuthenticationError,
    ExchangeUnavailableError,
    InsufficientFundsError,
    InvalidOrderError,
    PermissionDeniedError,
)
from trading.backpack.market_types import MarketType

from .conftest import credentials_of


async def test_server_time_is_epoch_ms(public) -> None:
    assert await public.server_time() > 1_600_000_000_000


async def test_markets_carry_their_filters_as_decimals(public) -> None:
    markets = {m.symbol: m for m in await public.markets()}
    sol = markets["SOL_USDC"]
    assert sol.market_type is MarketType.SPOT
    assert sol.tick_size == Decimal("0.01") and sol.step_size == Decimal("0.01")
    assert (await public.market("SOL_USDC")) == sol
    assert any(m.market_type is MarketType.PERP for m in markets.values())


async def test_assets_tickers_mark_prices(public) -> None:
    assets = {a.symbol: a for a in await public.assets()}
    assert "Solana" in {t.blockchain for t in assets["USDC"].tokens}
    assert {t.blockchain: t.native_decimals for t in assets["USDC"].tokens} == {
        "Solana": 9,
        "Ethereum": 9,
    }
    haircuts = {c.symbol: c.haircut_weight for c in await public.collateral_parameters()}
    assert haircuts["USDC"] == 1 and haircuts["SOL"] == Decimal("0.8")
    tickers = await public.tickers()
    assert {t.symbol for t in tickers} >= {"SOL_USDC"}
    assert (await public.ticker("SOL_USDC")).symbol == "SOL_USDC"
    marks = {m.symbol: m.mark_price for m in await public.mark_prices()}
    assert marks["SOL_USDC"] > 0


async def test_depth_trades_klines_after_a_trade(client, public, sandbox) -> None:
    taker = client.session.client(credentials_of(sandbox, 1), label="Desk B")
    await client.place_order("SOL_USDC", "Ask", "Limit", quantity="2", price="150")
    await taker.place_order("SOL_USDC", "Bid", "Limit", quantity="0.5", price="150")
    depth = await public.depth("SOL_USDC")
    assert depth.asks == [(Decimal("150"), Decimal("1.5"))]
    assert depth.last_update_id > 0
    trades = await public.trades("SOL_USDC")
    assert [(t.price, t.quantity) for t in trades] == [(Decimal("150"), Decimal("0.5"))]
    history = await public.trades_history("SOL_USDC")
    assert len(history) == 1
    candles = await public.klines("SOL_USDC", "1m", 0)
    assert candles and candles[-1].close == Decimal("150")


async def test_funding_rates_of_a_perp_and_a_typed_refusal_for_a_bad_symbol(public) -> None:
    assert await public.funding_rates("SOL_USDC_PERP") == []  # a still exchange settled none
    with pytest.raises(InvalidOrderError) as info:
        await public.funding_rates("NOPE_PERP")
    assert info.value.field == "symbol"
    assert str(info.value).startswith("The exchange rejected GET /api/v1/fundingRates: ")


async def test_balances_collateral_account(client) -> None:
    balances = await client.balances()
    assert isinstance(balances["USDC"], Balance)
    assert balances["USDC"].available > 0
    assert (await client.collateral()).net_equity > 0
    account = await client.account()
    assert account.leverage_limit > 0


async def test_order_lifecycle_place_get_list_cancel(client) -> None:
    placed = await client.place_order(
        "SOL_USDC", Side.BID, "Limit", quantity=Decimal("1.5"), price=Decimal("140"), post_only=True
    )
    assert placed.status is OrderStatus.NEW and placed.client_id is not None
    assert (await client.order("SOL_USDC", order_id=placed.id)).id == placed.id
    assert [o.id for o in await client.open_orders("SOL_USDC")] == [placed.id]
    cancelled = await client.cancel_order("SOL_USDC", order_id=placed.id)
    assert cancelled.status is OrderStatus.CANCELLED
    again = await client.cancel_order("SOL_USDC", order_id=placed.id)
    assert again.id == placed.id and again.status is OrderStatus.CANCELLED
    history = await client.order_history(symbol="SOL_USDC")
    assert [o.status for o in history if o.id == placed.id] == [OrderStatus.CANCELLED]


async def test_cancel_of_a_filled_order_returns_its_final_state(client, sandbox) -> None:
    other = client.session.client(credentials_of(sandbox, 1), label="Desk B")
    resting = await client.place_order("SOL_USDC", "Ask", "Limit", quantity="1", price="150")
    await other.place_order("SOL_USDC", "Bid", "Limit", quantity="1", price="150")
    final = await client.cancel_order("SOL_USDC", order_id=resting.id)
    assert final.status is OrderStatus.FILLED
    fills = await client.fill_history(symbol="SOL_USDC")
    assert [(f.order_id, f.quantity) for f in fills] == [(resting.id, Decimal("1"))]


async def test_batch_and_cancel_all(client) -> None:
    results = await client.place_orders(
        [
            {
                "symbol": "SOL_USDC",
                "side": "Bid",
                "order_type": "Limit",
                "quantity": "1",
                "price": "141",
            },
            {
                "symbol": "SOL_USDC",
                "side": "Bid",
                "order_type": "Limit",
                "quantity": "1",
                "price": "140",
            },
        ]
    )
    assert [r.price for r in results] == [Decimal("141"), Decimal("140")]
    cancelled = await client.cancel_all_orders("SOL_USDC")
    assert sorted(o.id for o in cancelled) == sorted(r.id for r in results)
    assert await client.open_orders("SOL_USDC") == []


async def test_order_off_the_step_is_refused_before_sending(client, session) -> None:
    with pytest.raises(InvalidOrderError) as info:
        await client.place_order("SOL_USDC", "Bid", "Limit", quantity="1.234", price="140")
    assert str(info.value) == (
        "quantity 1.234 is not a multiple of the step 0.01 for SOL_USDC; use 1.23."
    )
    assert info.value.field == "quantity"
    assert not any(r.route == "place_order" for r in session.metrics.recent)


async def test_exchange_refusals_are_typed(client) -> None:
    with pytest.raises(InsufficientFundsError):
        await client.place_order("SOL_USDC", "Bid", "Limit", quantity="99999", price="140")
    with pytest.raises(InvalidOrderError, match="no market 'NOPE_USDC'"):
        await client.place_order("NOPE_USDC", "Bid", "Limit", quantity="1", price="1")


async def test_positions_after_a_perp_trade(client, sandbox) -> None:
    other = client.session.client(credentials_of(sandbox, 1), label="Desk B")
    await other.place_order("SOL_USDC_PERP", "Ask", "Limit", quantity="2", price="150")
    await client.place_order("SOL_USDC_PERP", "Bid", "Market", quantity="2")
    positions = await client.positions()
    assert [(p.symbol, p.net_quantity) for p in positions] == [("SOL_USDC_PERP", Decimal("2"))]


async def test_limits_deposit_address_and_withdrawal(client, sandbox) -> None:
    assert (
        await client.max_order_quantity("SOL_USDC", "Bid", price=Decimal("150"))
    ).max_quantity > 0
    assert (await client.max_withdrawal_quantity("USDC")).max_quantity > 0
    assert (await client.deposit_address("Solana")).address
    await asyncio.to_thread(sandbox.deposit, sandbox.keys[0]["subaccount"], "USDC", "10.5")
    deposits = await client.deposits()
    assert [(d.symbol, d.quantity) for d in deposits][:1] == [("USDC", Decimal("10.5"))]
    before = await client.withdrawals()
    sent = await client.request_withdrawal(
        symbol="USDC",
        blockchain="Solana",
        address="DeskMainSoLanaWithdrawa1Address11111111111",
        quantity=Decimal("12.5"),
        client_id="desk:wd 1",
    )
    assert sent.quantity == Decimal("12.5") and sent.client_id == "desk:wd 1"
    assert [w.id for w in await client.withdrawals()] == [sent.id, *(w.id for w in before)]
    assert [w.id for w in await client.withdrawals(client_id="desk:wd 1")] == [sent.id]


async def test_withdrawal_to_an_address_outside_the_book_is_refused_in_words(client) -> None:
    with pytest.raises(PermissionDeniedError) as info:
        await client.request_withdrawal(
            symbol="USDC",
            blockchain="Solana",
            address="9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin",
            quantity=Decimal("1"),
        )
    assert "not 2FA exempt" in str(info.value)
    assert "address book" in info.value.action


async def test_verify_credentials_accepts_a_good_key(session, sandbox) -> None:
    await verify_credentials(session, credentials_of(sandbox, 0))


async def test_verify_credentials_rejects_a_mismatched_or_unknown_key(session, sandbox) -> None:
    good = credentials_of(sandbox, 0)
    other = credentials_of(sandbox, 1)
    mixed = Credentials(api_key=good.api_key, api_secret=lambda: other.api_secret)
    with pytest.raises(AuthenticationError, match="does not belong to this API key"):
        await verify_credentials(session, mixed)
    import base64

    from nacl.signing import SigningKey

    stranger = SigningKey.generate()
    unknown = Credentials(
        api_key=base64.b64encode(bytes(stranger.verify_key)).decode(),
        api_secret=base64.b64encode(bytes(stranger)).decode(),
    )
    with pytest.raises(AuthenticationError):
        await verify_credentials(session, unknown)


async def test_verify_credentials_reports_an_unreachable_exchange(sandbox) -> None:
    from sandbox.process import free_port
    from trading.backpack import ExchangeSession

    async with ExchangeSession(api_url=f"http://127.0.0.1:{free_port()}", timeout_s=1) as dead:
        with pytest.raises(ExchangeUnavailableError):
            await verify_credentials(dead, credentials_of(sandbox, 0))


async def test_metrics_record_latency_outcome_and_code_per_label(client, session) -> None:
    seen = []
    session.metrics.add_hook(seen.append)
    await client.balances()
    with pytest.raises(InsufficientFundsError):
        await client.place_order("SOL_USDC", "Bid", "Limit", quantity="99999", price="140")
    assert [(r.label, r.route, r.outcome) for r in seen if r.label == "Desk A"] == [
        ("Desk A", "balances", "ok"),
        ("Desk A", "place_order", "InsufficientFundsError"),
    ]
    assert seen[-1].code == "INSUFFICIENT_FUNDS" and seen[-1].latency_ms > 0
    assert session.limiter.remaining(client.credentials.api_key) < 2000


@pytest.mark.parametrize("transport", ["aiohttp"])
async def test_the_other_transport_signs_and_behaves_the_same(sandbox, transport: str) -> None:
    async with ExchangeSession(api_url=sandbox.api_url, transport=transport) as session:
        client = session.client(credentials_of(sandbox), label="A")
        assert (await client.balances())["USDC"].available > 0
        order = await client.place_order("SOL_USDC", "Bid", "Limit", quantity="1", price="140")
        assert [o.id for o in await client.open_orders(symbol="SOL_USDC")] == [order.id]
        with pytest.raises(InsufficientFundsError):
            await client.place_order("SOL_USDC", "Bid", "Limit", quantity="99999", price="140")


async def test_a_perp_order_carries_take_profit_and_stop_loss(client) -> None:
    order = await client.place_order(
        "SOL_USDC_PERP",
        "Bid",
        "Limit",
        quantity="1",
        price="140",
        take_profit_trigger_price=Decimal("170"),
        stop_loss_trigger_price=Decimal("120"),
    )
    assert (order.take_profit_trigger_price, order.stop_loss_trigger_price) == (
        Decimal("170"),
        Decimal("120"),
    )


async def test_a_batch_reports_each_orders_own_outcome(client) -> None:
    results = await client.place_orders(
        [
            {
                "symbol": "SOL_USDC",
                "side": "Bid",
                "order_type": "Limit",
                "quantity": "1",
                "price": "140",
            },
            {
                "symbol": "SOL_USDC",
                "side": "Bid",
                "order_type": "Limit",
                "quantity": "90000",
                "price": "140",
            },
        ]
    )
    assert results[0].status is OrderStatus.NEW
    assert isinstance(results[1], InsufficientFundsError)
    assert [o.id for o in await client.open_orders("SOL_USDC")] == [results[0].id]


async def test_a_proxy_set_in_the_environment_carries_signed_requests(sandbox, monkeypatch):
    proxy = ForwardProxy()
    await proxy.start()
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALL_PROXY", proxy.url)
    try:
        async with ExchangeSession(api_url=sandbox.api_url) as session:
            client = session.client(credentials_of(sandbox), label="A")
            balances = await client.balances()
    finally:
        await proxy.stop()

    assert balances["USDC"].available > 0
    assert f"GET {sandbox.api_url}/api/v1/capital HTTP/1.1" in proxy.request_lines
    assert all(line.startswith(f"GET {sandbox.api_url}/") for line in proxy.request_lines)


class ForwardProxy:
    """A plain-HTTP forward proxy on loopback that records the request lines it forwards."""

    def __init__(self) -> None:
        self.request_lines: list[str] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                line, _, rest = head.decode("latin-1").partition("\r\n")
                self.request_lines.append(line)
                method, target, version = line.split(" ")
                url = urlsplit(target)
                length = re.search(r"(?im)^content-length:\s*(\d+)", rest)
                body = await reader.readexactly(int(length.group(1))) if length else b""
                upstream_reader, upstream_writer = await asyncio.open_connection(
                    url.hostname, url.port
                )
                path = url.path + (f"?{url.query}" if url.query else "")
                upstream_writer.write(f"{method} {path} {version}\r\n{rest}".encode("latin-1"))
                upstream_writer.write(body)
                answer_head = await upstream_reader.readuntil(b"\r\n\r\n")
                size = re.search(rb"(?im)^content-length:\s*(\d+)", answer_head)
                writer.write(answer_head + await upstream_reader.readexactly(int(size.group(1))))
                upstream_writer.close()
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
