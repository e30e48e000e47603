"""What the balances selectors return: frozen dataclasses holding Decimals for the templates."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from trading.balances.sparkline import Sparkline
from trading.balances.valuation import ZERO, AssetRow, AssetTotal, PriceQuote, rows_value
from trading.formatting import fixed, plain


@dataclass(frozen=True, slots=True)
class PerpSummary:
    """The perpetual (margin) account: equity and margin fractions from the collateral read."""

    net_equity: Decimal
    net_equity_available: Decimal
    pnl_unrealized: Decimal
    margin_fraction: Decimal | None
    imf: Decimal
    mmf: Decimal

    @property
    def net_equity_text(self) -> str:
        return plain(self.net_equity)


@dataclass(frozen=True, slots=True)
class ThresholdBreach:
    """A balance under its low-balance minimum (the alerts helper reads these)."""

    subaccount_id: int
    subaccount_name: str
    asset: str
    balance: Decimal
    minimum: Decimal
    places: int = 8  # display places of the asset

    @property
    def balance_text(self) -> str:
        """As the balances page shows it: the asset's places, grouped ("1,051,214.45")."""
        return fixed(self.balance, self.places, grouped=True)

    @property
    def minimum_text(self) -> str:
        return fixed(self.minimum, self.places, grouped=True)


@dataclass(frozen=True, slots=True)
class SubaccountBalances:
    """One subaccount's balances block. `error` set means the balances could not be read:
    the block shows the reason, never zeros, and team totals leave it out."""

    subaccount_id: int
    name: str
    rows: tuple[AssetRow, ...]
    read_at: datetime
    error: str | None = None
    perp: PerpSummary | None = None
    perp_error: str | None = None
    price_error: str = ""
    equity_24h: Sparkline | None = None
    equity_7d: Sparkline | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def with_sparklines(self, day: Sparkline | None, week: Sparkline | None) -> SubaccountBalances:
        """A copy carrying the 24 h and 7 d equity sparklines."""
        return replace(self, equity_24h=day, equity_7d=week)

    @property
    def value_usdc(self) -> Decimal | None:
        """Value of the priced balances (None when the balances could not be read)."""
        return None if self.error else rows_value(self.rows)

    @property
    def value_text(self) -> str:
        value = self.value_usdc
        return "" if value is None else plain(value)

    @property
    def unvalued_assets(self) -> tuple[str, ...]:
        return tuple(r.asset for r in self.rows if r.quote is None and r.total != 0)

    @property
    def equity_usdc(self) -> Decimal | None:
        """Balances' value plus unrealized perp PnL; None unless both reads succeeded."""
        if self.error or self.perp is None:
            return None
        return rows_value(self.rows) + self.perp.pnl_unrealized

    @property
    def below_threshold(self) -> tuple[ThresholdBreach, ...]:
        if self.error:
            return ()
        return tuple(
            ThresholdBreach(self.subaccount_id, self.name, r.asset, r.total, r.minimum, r.places)
            for r in self.rows
            if r.below_threshold and r.minimum is not None
        )

    @property
    def quotes(self) -> tuple[PriceQuote, ...]:
        return tuple(r.quote for r in self.rows if r.quote is not None)


@dataclass(frozen=True, slots=True)
class TeamBalances:
    """Every subaccount a user may see, with per-asset and team totals of the readable ones."""

    subaccounts: tuple[SubaccountBalances, ...]
    totals: tuple[AssetTotal, ...]
    read_at: datetime
    price_error: str = ""

    @property
    def value_usdc(self) -> Decimal:
        return sum((t.value_usdc for t in self.totals if t.value_usdc is not None), ZERO)

    @property
    def value_text(self) -> str:
        return plain(self.value_usdc)

    @property
    def perp_net_equity_text(self) -> str:
        return plain(self.perp_net_equity)

    @property
    def excluded(self) -> tuple[SubaccountBalances, ...]:
        """Subaccounts whose balances could not be read (left out of every total)."""
        return tuple(s for s in self.subaccounts if not s.ok)

    @property
    def unvalued_assets(self) -> tuple[str, ...]:
        return tuple(t.asset for t in self.totals if t.quote is None and t.total != 0)

    @property
    def perp_net_equity(self) -> Decimal:
        return sum((s.perp.net_equity for s in self.subaccounts if s.perp), ZERO)

    @property
    def perp_missing(self) -> tuple[SubaccountBalances, ...]:
        """Readable subaccounts whose margin summary could not be read."""
        return tuple(s for s in self.subaccounts if s.ok and s.perp is None)

    @property
    def price_notes(self) -> tuple[PriceQuote, ...]:
        """The price used for each valued asset, for the footnote."""
        return tuple(t.quote for t in self.totals if t.quote is not None)

    @property
    def below_threshold(self) -> tuple[ThresholdBreach, ...]:
        return tuple(b for s in self.subaccounts for b in s.below_threshold)
