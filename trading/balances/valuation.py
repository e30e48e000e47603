"""Valuing balances in USDC: pure functions, Decimal in, Decimal out (no I/O).

Price rule: USDC is worth 1. Any other asset is valued by its `<ASSET>_USDC` spot market:
the ticker's last price when the market has traded, else the mid of the best bid and ask.
An asset with neither is shown unvalued and named in the totals' footnote.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from trading.formatting import fixed, places_of, plain

QUOTE_ASSET = "USDC"
VALUE_PLACES = 2
DEFAULT_PLACES = 8
MIN_PLACES = 2
ZERO = Decimal(0)


class PriceSource(StrEnum):
    """Where a price came from; the page's footnote says which was used."""

    PAR = "par"
    LAST = "last"
    MID = "mid"

    @property
    def note(self) -> str:
        return {
            PriceSource.PAR: "USDC counts at 1",
            PriceSource.LAST: "last trade price of the {symbol} market",
            PriceSource.MID: "mid of best bid and ask of {symbol}, which has not traded",
        }[self]


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """The USDC price of one asset and where it came from."""

    asset: str
    price: Decimal
    source: PriceSource
    symbol: str = ""
    tick_size: Decimal | None = None  # the market's tick, for the decimals (None: to the cent)

    @property
    def note(self) -> str:
        return self.source.note.format(symbol=self.symbol)

    @property
    def price_text(self) -> str:
        """The price with its market's tick decimals, as the Markets page and the book show it."""
        return fixed(self.price, places_of(self.tick_size))


def usdc_symbol(asset: str) -> str:
    """The spot market that prices `asset`: `<ASSET>_USDC`."""
    return f"{asset}_{QUOTE_ASSET}"


def quote_from_market(
    asset: str,
    *,
    last_price: Decimal | None,
    best_bid: Decimal | None = None,
    best_ask: Decimal | None = None,
    tick_size: Decimal | None = None,
) -> PriceQuote | None:
    """The price of `asset` from its USDC market (whose tick is `tick_size`): last trade,
    else mid, else None."""
    if asset == QUOTE_ASSET:
        return PriceQuote(asset, Decimal(1), PriceSource.PAR)
    symbol = usdc_symbol(asset)
    if last_price is not None and last_price > 0:
        return PriceQuote(asset, last_price, PriceSource.LAST, symbol, tick_size)
    if best_bid and best_ask and best_bid > 0 and best_ask > 0:
        return PriceQuote(asset, (best_bid + best_ask) / 2, PriceSource.MID, symbol, tick_size)
    return None


def places_for_step(step_size: Decimal | None) -> int:
    """Display places of an asset: those of its market's step size, at least 2."""
    if step_size is None or not step_size.is_finite() or step_size <= 0:
        return DEFAULT_PLACES
    return max(MIN_PLACES, places_of(step_size))


def asset_places(asset: str, step_size: Decimal | None) -> int:
    """Display places of an amount of `asset` (as the balances page shows it): USDC to the
    cent, another asset with its USDC market's step (`step_size`, at least 2), 8 without one."""
    if asset == QUOTE_ASSET:
        return MIN_PLACES
    return places_for_step(step_size)


@dataclass(frozen=True, slots=True)
class AssetRow:
    """One asset of one subaccount, valued. `value_usdc` is None when there is no price."""

    asset: str
    available: Decimal
    locked: Decimal
    staked: Decimal
    places: int
    quote: PriceQuote | None
    minimum: Decimal | None = None

    @property
    def total(self) -> Decimal:
        return self.available + self.locked + self.staked

    @property
    def value_usdc(self) -> Decimal | None:
        return None if self.quote is None else self.total * self.quote.price

    @property
    def total_text(self) -> str:
        return plain(self.total)

    @property
    def value_text(self) -> str:
        value = self.value_usdc
        return "" if value is None else plain(value)

    @property
    def minimum_text(self) -> str:
        return "" if self.minimum is None else plain(self.minimum)

    @property
    def below_threshold(self) -> bool:
        """True when a low-balance minimum is set and the total is under it."""
        return self.minimum is not None and self.total < self.minimum


def asset_rows(
    balances: dict[str, tuple[Decimal, Decimal, Decimal]],
    *,
    quotes: dict[str, PriceQuote],
    places: dict[str, int],
    minimums: dict[str, Decimal],
) -> tuple[AssetRow, ...]:
    """Rows for every held asset (available, locked, staked) and every asset with a minimum.

    An asset with a minimum but no balance appears with zeros, so a missing balance under
    its threshold is seen. Rows are sorted by value (unvalued last), then by name.
    """
    names = set(balances) | set(minimums)
    rows = []
    for asset in names:
        available, locked, staked = balances.get(asset, (ZERO, ZERO, ZERO))
        rows.append(
            AssetRow(
                asset=asset,
                available=available,
                locked=locked,
                staked=staked,
                places=places.get(asset, asset_places(asset, None)),
                quote=quotes.get(asset),
                minimum=minimums.get(asset),
            )
        )
    rows.sort(key=lambda r: (r.value_usdc is None, -(r.value_usdc or ZERO), r.asset))
    return tuple(rows)


def rows_value(rows: tuple[AssetRow, ...]) -> Decimal:
    """Sum of the valued rows (unvalued rows are left out and listed separately)."""
    return sum((r.value_usdc for r in rows if r.value_usdc is not None), ZERO)


@dataclass(frozen=True, slots=True)
class AssetTotal:
    """One asset summed over the subaccounts whose balances could be read."""

    asset: str
    available: Decimal
    locked: Decimal
    staked: Decimal
    places: int
    quote: PriceQuote | None

    @property
    def total(self) -> Decimal:
        return self.available + self.locked + self.staked

    @property
    def value_usdc(self) -> Decimal | None:
        return None if self.quote is None else self.total * self.quote.price

    @property
    def total_text(self) -> str:
        return plain(self.total)

    @property
    def value_text(self) -> str:
        value = self.value_usdc
        return "" if value is None else plain(value)


def asset_totals(row_sets: list[tuple[AssetRow, ...]]) -> tuple[AssetTotal, ...]:
    """Per-asset sums over several subaccounts' rows, sorted like `asset_rows`."""
    sums: dict[str, list[Decimal]] = {}
    meta: dict[str, AssetRow] = {}
    for rows in row_sets:
        for row in rows:
            acc = sums.setdefault(row.asset, [ZERO, ZERO, ZERO])
            acc[0] += row.available
            acc[1] += row.locked
            acc[2] += row.staked
            meta.setdefault(row.asset, row)
    totals = [
        AssetTotal(asset, a, lo, s, meta[asset].places, meta[asset].quote)
        for asset, (a, lo, s) in sums.items()
    ]
    totals.sort(key=lambda t: (t.value_usdc is None, -(t.value_usdc or ZERO), t.asset))
    return tuple(totals)
