"""Start-up history: full charts and recent trades from the first second, the same for the
same seed, ending where the book starts."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx

from sandbox.process import SandboxProcess
from sandbox.seed import load_seed
from sandbox.server.state import Sandbox, ServerConfig

DAY = 86_400
WEEK = 7 * DAY
START_MS = 1_780_000_000_000 + 37_123  # mid-minute, mid-hour


def _fixed_sandbox(history_seed: int = 1) -> Sandbox:
    config = ServerConfig(
        seed=load_seed(),
        maker=False,
        history=True,
        history_seed=history_seed,
        clock_ms=lambda: START_MS,
    )
    return Sandbox(config)


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def test_the_same_seed_gives_the_same_candles_and_trades():
    first, again, other = _fixed_sandbox(), _fixed_sandbox(), _fixed_sandbox(history_seed=2)
    now = START_MS // 1000

    def seen(sandbox: Sandbox) -> tuple:
        engine = sandbox.engine
        return (
            engine.klines("SOL_USDC", "1m", now - DAY, now),
            engine.klines("BTC_USDC_PERP", "1h", now - WEEK, now),
            engine.recent_trades("ETH_USDC", 1000),
        )

    assert seen(first) == seen(again)
    assert seen(first)[0] != seen(other)[0]
    assert seen(first)[2] != seen(other)[2]


def test_a_day_of_minutes_and_a_week_of_hours_end_at_the_starting_price():
    engine = _fixed_sandbox().engine
    now = START_MS // 1000
    this_minute = now - now % 60

    minutes = engine.klines("SOL_USDC", "1m", this_minute - DAY, now)
    hours = engine.klines("SOL_USDC", "1h", now - WEEK, now)
    trades = engine.recent_trades("SOL_USDC", 1000)

    starts = [_epoch(k["start"]) for k in minutes]
    assert len(minutes) == 1440  # every minute of the last day but the current one
    assert starts == list(range(this_minute - DAY, this_minute, 60))
    assert len(hours) == 168  # the week: its whole hours and the current one
    assert all(int(k["trades"]) > 0 for k in minutes + hours)
    assert minutes[-1]["close"] == trades[-1]["price"] == "150.00"  # the seed's initialPrice
    assert len(trades) > 100 and trades[-1]["timestamp"] < START_MS
    assert engine.ticker("SOL_USDC")["lastPrice"] == "150.00"


def test_the_seeded_balances_were_deposited_where_the_history_starts():
    engine = _fixed_sandbox().engine
    now = START_MS // 1000
    first = _epoch(engine.klines("SOL_USDC", "1m", 0, now)[0]["start"])
    without = Sandbox(ServerConfig(seed=load_seed(), maker=False, clock_ms=lambda: START_MS))

    deposits = engine.deposits(1)

    # the capital history explains the balances the whole market history shows them held
    assert {(d["symbol"], d["quantity"]) for d in deposits} == {
        ("USDC", "1000000"),
        ("SOL", "5000"),
        ("BTC", "25"),
        ("ETH", "400"),
    }
    assert {_epoch(d["createdAt"]) for d in deposits} == {first}
    assert first <= now - WEEK - DAY
    # without a history the sandbox begins now, and so do its deposits
    assert {d["createdAt"][:19] for d in without.engine.deposits(1)} == {
        datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    }


def test_a_reset_brings_the_same_history_back():
    sandbox = _fixed_sandbox()
    now = START_MS // 1000
    before = sandbox.engine.klines("ETH_USDC", "15m", now - WEEK, now)

    sandbox.reset()

    assert sandbox.engine.klines("ETH_USDC", "15m", now - WEEK, now) == before
    assert len(before) == 7 * 24 * 4


def test_the_sandbox_answers_full_charts_right_after_start_the_same_each_time():
    now = int(time.time())
    answers = []
    for _ in range(2):
        with SandboxProcess(history=True) as sandbox:

            def get(path: str, **params: object) -> list[dict]:
                answer = httpx.get(sandbox.api_url + path, params=params, timeout=10)
                assert answer.status_code == 200
                return answer.json()

            minutes = get("/api/v1/klines", symbol="SOL_USDC", interval="1m", startTime=now - DAY)
            # from an hour more than a week back: in an hour's first minute that hour has no
            # candle yet, and a week back from then holds only 167 full hours
            hours = get(
                "/api/v1/klines", symbol="SOL_USDC", interval="1h", startTime=now - WEEK - 3600
            )
            trades = get("/api/v1/trades", symbol="SOL_USDC", limit=100)
        assert len(minutes) >= 1439 and len(hours) >= 168
        assert _epoch(minutes[-1]["start"]) >= now - now % 60 - 120  # up to the start minute
        assert len(trades) == 100 and trades[-1]["price"] == "150.00"
        # candle values by their place before the start (the start minute may differ)
        values = [(k["open"], k["high"], k["low"], k["close"], k["volume"]) for k in minutes]
        answers.append((values[-1400:], [(t["price"], t["quantity"]) for t in trades]))

    assert answers[0] == answers[1]


def test_without_history_the_market_starts_empty():
    with SandboxProcess() as sandbox:  # what the test suite's sandbox fixtures use
        klines = httpx.get(
            sandbox.api_url + "/api/v1/klines",
            params={"symbol": "SOL_USDC", "interval": "1m", "startTime": int(time.time()) - DAY},
        ).json()
        trades = httpx.get(sandbox.api_url + "/api/v1/trades", params={"symbol": "SOL_USDC"})

    assert klines == []
    assert trades.json() == []


async def test_ccxt_reads_the_history_as_candles_and_trades():
    import ccxt.async_support as ccxt_async

    async with SandboxProcess(history=True) as sandbox:
        exchange = ccxt_async.backpack()
        exchange.urls["api"] = {"public": sandbox.api_url, "private": sandbox.api_url}
        try:
            minutes = await exchange.fetch_ohlcv("SOL/USDC", "1m", limit=120)
            hours = await exchange.fetch_ohlcv("SOL/USDC", "1h", limit=24 * 7)
            trades = await exchange.fetch_trades("SOL/USDC", limit=50)
        finally:
            await exchange.close()

    assert len(minutes) >= 119 and len(hours) >= 167
    times = [candle[0] for candle in minutes]
    assert times == sorted(times) and times[-1] - times[0] == (len(times) - 1) * 60_000
    assert minutes[-1][4] == 150.0
    assert len(trades) == 50 and trades[-1]["price"] == 150.0
