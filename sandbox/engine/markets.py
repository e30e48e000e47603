"""Markets and assets as data: what the exchange lists and the rules each book enforces.

A :class:`Market` carries the spec's ``Market`` fields (filters, IMF/MMF, funding) plus the
fee rates the engine charges.  An :class:`Asset` lists the blockchains it moves on
(:class:`Token`), with withdrawal fees and limits, and its collateral weight.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Context, Decimal
from typing import Any

from sandbox.numbers import NumberError, check_decimal, parse_decimal

CONTEXT = Context(prec=50)
"""The engine's decimal context: exact for any realistic price x quantity."""

ZERO = Decimal(0)
ONE = Decimal(1)

SPOT = "SPOT"
PERP = "PERP"


def plain(value: Decimal) -> str:
    """A Decimal as the wire wants it: plain digits, never exponent notation."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


_DECIMAL_FIELDS = (
    "tick_size",
    "step_size",
    "min_quantity",
    "max_quantity",
    "min_price",
    "max_price",
    "max_multiplier",
    "min_multiplier",
    "maker_fee",
    "taker_fee",
    "imf",
    "mmf",
    "funding_rate_upper_bound",
    "funding_rate_lower_bound",
    "open_interest_limit",
)
_OPTIONAL_FIELDS = frozenset(
    {"max_quantity", "max_price", "max_multiplier", "min_multiplier", "open_interest_limit"}
)
_POSITIVE_FIELDS = frozenset({"tick_size", "step_size", "min_quantity", "min_price", "imf", "mmf"})


@dataclass(frozen=True, slots=True)
class Market:
    """One order book and its rules.

    Fee rates are fractions of notional (``Decimal("0.001")`` is 10 bps); a negative maker
    rate is a rebate.  ``max_multiplier`` / ``min_multiplier`` bound limit prices around the
    reference price (mark price on perpetuals, else the last trade); ``None`` disables the
    band.  ``imf`` / ``mmf`` are the initial / maintenance margin fractions of a perpetual.
    ``funding_interval`` is in milliseconds.
    """

    symbol: str
    base_symbol: str
    quote_symbol: str
    market_type: str = SPOT
    tick_size: Decimal = Decimal("0.01")
    step_size: Decimal = Decimal("0.01")
    min_quantity: Decimal = Decimal("0.01")
    max_quantity: Decimal | None = None
    min_price: Decimal = Decimal("0.01")
    max_price: Decimal | None = None
    max_multiplier: Decimal | None = Decimal("1.25")
    min_multiplier: Decimal | None = Decimal("0.75")
    maker_fee: Decimal = Decimal("0.0002")
    taker_fee: Decimal = Decimal("0.0005")
    imf: Decimal = Decimal("0.02")
    mmf: Decimal = Decimal("0.0125")
    funding_interval: int = 28_800_000
    funding_rate_upper_bound: Decimal = Decimal("100")
    funding_rate_lower_bound: Decimal = Decimal("-100")
    open_interest_limit: Decimal | None = None
    order_book_state: str = "Open"
    visible: bool = True
    created_at: datetime = field(default_factory=lambda: datetime(2024, 1, 1, tzinfo=UTC))
    # True for perpetual futures (positions, margin, reduceOnly, triggers); derived from
    # market_type once, since the matching loop asks on every fill
    is_perp: bool = field(init=False, repr=False, compare=False, default=False)

    def __post_init__(self) -> None:
        # markets come from seed files too: accept numbers as strings, refuse nonsense
        for name in _DECIMAL_FIELDS:
            value = getattr(self, name)
            if value is None and name in _OPTIONAL_FIELDS:
                continue
            try:
                if isinstance(value, Decimal):
                    number = check_decimal(value, negative=True)
                else:
                    number = parse_decimal(value, negative=True)
            except NumberError as exc:
                raise ValueError(f"{self.symbol}: {name}: {exc.reason}") from None
            if name in _POSITIVE_FIELDS and number <= 0:
                raise ValueError(f"{self.symbol}: {name} must be a positive decimal")
            object.__setattr__(self, name, number)
        if self.market_type not in (SPOT, PERP):
            raise ValueError(f"{self.symbol}: market_type must be SPOT or PERP")
        object.__setattr__(self, "is_perp", self.market_type == PERP)

    def to_wire(self) -> dict[str, Any]:
        """The spec's ``Market`` object (``GET /api/v1/market(s)``)."""
        price_filter: dict[str, Any] = {
            "minPrice": plain(self.min_price),
            "tickSize": plain(self.tick_size),
        }
        if self.max_price is not None:
            price_filter["maxPrice"] = plain(self.max_price)
        if self.max_multiplier is not None:
            price_filter["maxMultiplier"] = plain(self.max_multiplier)
        if self.min_multiplier is not None:
            price_filter["minMultiplier"] = plain(self.min_multiplier)
        quantity_filter: dict[str, Any] = {
            "minQuantity": plain(self.min_quantity),
            "stepSize": plain(self.step_size),
        }
        if self.max_quantity is not None:
            quantity_filter["maxQuantity"] = plain(self.max_quantity)
        wire: dict[str, Any] = {
            "symbol": self.symbol,
            "baseSymbol": self.base_symbol,
            "quoteSymbol": self.quote_symbol,
            "marketType": self.market_type,
            "filters": {"price": price_filter, "quantity": quantity_filter},
            "orderBookState": self.order_book_state,
            "createdAt": self.created_at.strftime("%Y-%m-%dT%H:%M:%S"),
            "visible": self.visible,
        }
        if self.is_perp:
            wire["imfFunction"] = {"type": "sqrt", "base": plain(self.imf), "factor": "0"}
            wire["mmfFunction"] = {"type": "sqrt", "base": plain(self.mmf), "factor": "0"}
            wire["fundingInterval"] = self.funding_interval
            wire["fundingRateUpperBound"] = plain(self.funding_rate_upper_bound)
            wire["fundingRateLowerBound"] = plain(self.funding_rate_lower_bound)
            if self.open_interest_limit is not None:
                wire["openInterestLimit"] = plain(self.open_interest_limit)
        return wire


@dataclass(frozen=True, slots=True)
class Token:
    """An asset on one blockchain: deposit/withdrawal switches, limits and fee."""

    blockchain: str
    withdrawal_fee: Decimal = ZERO
    minimum_withdrawal: Decimal = ZERO
    maximum_withdrawal: Decimal | None = None
    minimum_deposit: Decimal = ZERO
    deposit_enabled: bool = True
    withdraw_enabled: bool = True
    contract_address: str | None = None
    native_decimals: int = 9

    def to_wire(self, display_name: str) -> dict[str, Any]:
        """The spec's ``Token`` object."""
        wire: dict[str, Any] = {
            "displayName": display_name,
            "blockchain": self.blockchain,
            "depositEnabled": self.deposit_enabled,
            "minimumDeposit": plain(self.minimum_deposit),
            "withdrawEnabled": self.withdraw_enabled,
            "minimumWithdrawal": plain(self.minimum_withdrawal),
            "withdrawalFee": plain(self.withdrawal_fee),
            "nativeDecimals": self.native_decimals,
        }
        if self.maximum_withdrawal is not None:
            wire["maximumWithdrawal"] = plain(self.maximum_withdrawal)
        if self.contract_address is not None:
            wire["contractAddress"] = self.contract_address
        return wire


@dataclass(frozen=True, slots=True)
class Asset:
    """A currency the exchange holds.  ``collateral_weight`` is the haircut for margin
    (USDC 1, others 0 unless configured): only weighted value counts as perp collateral."""

    symbol: str
    tokens: tuple[Token, ...] = ()
    display_name: str = ""
    collateral_weight: Decimal = ZERO
    coingecko_id: str | None = None

    def token(self, blockchain: str) -> Token | None:
        """This asset's token on ``blockchain``, or None."""
        for token in self.tokens:
            if token.blockchain == blockchain:
                return token
        return None

    def to_wire(self) -> dict[str, Any]:
        """The spec's ``MarketAsset`` object (``GET /api/v1/assets``)."""
        name = self.display_name or self.symbol
        wire: dict[str, Any] = {
            "symbol": self.symbol,
            "displayName": name,
            "tokens": [token.to_wire(name) for token in self.tokens],
        }
        if self.coingecko_id is not None:
            wire["coingeckoId"] = self.coingecko_id
        return wire
