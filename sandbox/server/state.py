"""The running sandbox: engine built from the seed, keys, clock, faults, limits, streams."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sandbox.engine import PERP, Asset, Engine, EngineError, Market, Token
from sandbox.faults import Faults
from sandbox.history import seed_history
from sandbox.seed import Seed
from sandbox.server.auth import Authenticator
from sandbox.server.ratelimit import RateLimiter

BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@dataclass
class ServerConfig:
    """Everything ``python -m sandbox`` can set (see ``sandbox/__main__.py``)."""

    seed: Seed
    maker: bool = True
    maker_seed: int = 1
    maker_rate: float = 0.0
    rate_standard: int = 2000
    rate_historical: int = 30
    faults: dict[str, Any] = field(default_factory=dict)
    withdrawal_confirm_s: float = 1.0
    market_data_interval_s: float = 1.0
    history: bool = False
    """Start with a deterministic market history (see :mod:`sandbox.history`)."""
    history_seed: int = 1
    clock_ms: Callable[[], int] | None = None
    """A fixed clock for tests; otherwise wall time plus the fault clock offset."""


def engine_markets(seed: Seed) -> list[Market]:
    """The engine's Market objects for the seed's markets."""
    return [
        Market(
            symbol=m.symbol,
            base_symbol=m.base_symbol,
            quote_symbol=m.quote_symbol,
            market_type=m.market_type,
            tick_size=m.tick_size,
            step_size=m.step_size,
            min_quantity=m.min_quantity,
            max_quantity=m.max_quantity,
            min_price=m.min_price,
            max_price=m.max_price,
            max_multiplier=m.max_multiplier,
            min_multiplier=m.min_multiplier,
            maker_fee=m.maker_fee,
            taker_fee=m.taker_fee,
            imf=m.imf,
            mmf=m.mmf,
            funding_interval=m.funding_interval_ms,
            open_interest_limit=m.open_interest_limit,
        )
        for m in seed.markets
    ]


def engine_assets(seed: Seed) -> list[Asset]:
    """The engine's Asset objects (USDC counts fully as collateral)."""
    return [
        Asset(
            symbol=a.symbol,
            display_name=a.display_name,
            coingecko_id=a.coingecko_id,
            collateral_weight=_collateral_weight(a.symbol),
            tokens=tuple(
                Token(
                    blockchain=t.blockchain,
                    withdrawal_fee=t.withdrawal_fee,
                    minimum_withdrawal=t.minimum_withdrawal,
                    minimum_deposit=t.minimum_deposit,
                    contract_address=t.contract_address,
                )
                for t in a.tokens
            ),
        )
        for a in seed.assets
    ]


def _collateral_weight(symbol: str) -> Decimal:
    """Stablecoins count fully as margin collateral, other assets at 80 %."""
    return Decimal("1") if symbol in ("USDC", "USDT") else Decimal("0.8")


class Sandbox:
    """One exchange instance: the engine plus the server-side state around it."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.seed = config.seed
        self.faults = Faults()
        self.faults.update(dict(config.faults))
        self.limiter = RateLimiter(
            {"standard": config.rate_standard, "historical": config.rate_historical}
        )
        self.keys_by_api_key = {sub.api_key: sub.id for sub in self.seed.subaccounts}
        self.subaccounts = {sub.id: sub for sub in self.seed.subaccounts}
        self.auth = Authenticator(self.keys_by_api_key, self.clock_ms)
        self.event_sinks: list[Callable[[Any], None]] = []
        self.engine = self._new_engine()
        self.pending_confirmations: dict[str, asyncio.TimerHandle] = {}
        # exchange requests received, by "METHOD /path" (benchmarks count what a click cost)
        self.requests: Counter[str] = Counter()

    def clock_ms(self) -> int:
        """Server time in milliseconds (fault clock offset applied)."""
        if self.config.clock_ms is not None:
            return self.config.clock_ms()
        return time.time_ns() // 1_000_000 + self.faults.clock_offset_ms

    def clock_us(self) -> int:
        """Engine time in microseconds (fault clock offset applied)."""
        if self.config.clock_ms is not None:
            return self.config.clock_ms() * 1000
        return time.time_ns() // 1000 + self.faults.clock_offset_ms * 1000

    def _new_engine(self) -> Engine:
        engine = Engine(engine_markets(self.seed), engine_assets(self.seed), clock=self.clock_us)
        engine.keep_events = False
        funded_us = None  # the seeded balances' deposits: now, or where the history starts
        if self.config.history:
            for past in seed_history(
                self.seed, now_us=engine.now_us(), history_seed=self.config.history_seed
            ):
                engine.history_load(past.symbol, past.candles, past.trades)
                if past.candles:
                    first_us = past.candles[0][0] * 1_000_000
                    funded_us = first_us if funded_us is None else min(funded_us, first_us)
        for sub in (*self.seed.subaccounts, self.seed.maker):
            engine.open_subaccount(sub.id)
            for asset, amount in sub.balances.items():
                if amount > 0:
                    engine.deposit(sub.id, asset, amount, at_us=funded_us)
        for market in self.seed.markets:
            try:
                engine.set_mark_price(market.symbol, market.initial_price, market.initial_price)
            except EngineError:
                if market.market_type == PERP:
                    raise
            if market.market_type == PERP:
                engine.set_funding_rate(market.symbol, market.funding_rate)
        engine.listeners.append(self._forward)
        return engine

    def _forward(self, event: Any) -> None:
        for sink in self.event_sinks:
            sink(event)

    def reset(self) -> None:
        """A fresh ledger and empty books from the seed (with a new history when history is
        on); faults and rate budgets cleared."""
        for handle in self.pending_confirmations.values():
            handle.cancel()
        self.pending_confirmations.clear()
        self.engine = self._new_engine()
        self.limiter.reset()
        self.faults.clear()
        self.requests.clear()

    def deposit_address(self, subaccount_id: int, blockchain: str) -> str:
        """A stable, made-up deposit address for this subaccount on ``blockchain``."""
        digest = hashlib.sha256(f"deposit:{subaccount_id}:{blockchain}".encode()).digest()
        if blockchain in ("Ethereum", "Arbitrum", "Base", "Optimism", "Polygon", "Bsc"):
            return "0x" + digest[:20].hex()
        number = int.from_bytes(digest, "big")
        chars = []
        while number:
            number, rest = divmod(number, 58)
            chars.append(BASE58[rest])
        address = "".join(reversed(chars))
        return ("bc1q" + digest[:20].hex()) if blockchain == "Bitcoin" else address

    def blockchains(self) -> set[str]:
        """Every blockchain some asset of the seed lives on."""
        return {token.blockchain for asset in self.seed.assets for token in asset.tokens}

    def schedule_confirmation(self, withdrawal_id: str) -> None:
        """Confirm a pending withdrawal after ``withdrawal_confirm_s`` seconds."""
        loop = asyncio.get_running_loop()
        engine = self.engine

        def confirm() -> None:
            self.pending_confirmations.pop(withdrawal_id, None)
            if self.engine is engine:
                engine.confirm_withdrawal(withdrawal_id)

        handle = loop.call_later(self.config.withdrawal_confirm_s, confirm)
        self.pending_confirmations[withdrawal_id] = handle

    def confirm_pending_withdrawals(self) -> int:
        """Confirm every pending withdrawal now; returns how many."""
        count = 0
        for withdrawal_id, handle in list(self.pending_confirmations.items()):
            handle.cancel()
            self.pending_confirmations.pop(withdrawal_id, None)
            self.engine.confirm_withdrawal(withdrawal_id)
            count += 1
        return count
