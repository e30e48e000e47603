"""Collateral and margin: equity, initial-margin requirement, the collateral summary.

Model (documented because the property tests rely on it):

- collateral value = sum over assets of total quantity x price x ``collateral_weight``
  (USDC weight 1, price 1; other assets their ``<ASSET>_USDC`` last price, weight as
  configured, 0 by default), plus the unrealized PnL of every perpetual position at mark;
- the initial-margin requirement of a perpetual market is its worst-case exposure
  notional ``max(|net x mark + open bids|, |net x mark - open asks|)`` times
  ``imf`` plus the taker fee (fee headroom); reduce-only orders add no exposure;
- ``netEquityLocked`` = that requirement + the weighted value locked in spot orders;
  ``netEquityAvailable`` = ``netEquity - netEquityLocked`` must stay >= 0 after any new
  order or withdrawal, else INSUFFICIENT_MARGIN.
- realized PnL and fees settle into USDC at once (``unsettledEquity`` is always 0); there
  is no liquidation engine: an account whose losses exceed its collateral shows a
  negative USDC balance.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .ledger import Account
from .markets import ONE, ZERO

_FMT = format
_RATIO = Decimal("1e-8")


class MarginMixin:
    """Margin arithmetic over the engine's accounts (mixed into :class:`Engine`)."""

    def _asset_price(self, symbol: str) -> Decimal:
        if symbol == self.collateral_symbol:
            return ONE
        data = self._data.get(f"{symbol}_{self.collateral_symbol}")
        if data is None or data.last_price is None:
            return ZERO
        return data.last_price

    def _weight(self, symbol: str) -> Decimal:
        return self._weights.get(symbol, ZERO)

    def _reference_mark(self, symbol: str, fallback: Decimal | None = None) -> Decimal:
        mark = self._mark.get(symbol)
        if mark is None:
            mark = self._data[symbol].last_price
            if mark is None:
                return fallback if fallback is not None else ZERO
        return mark

    def _position_mark(self, symbol: str, position) -> Decimal:
        mark = self._mark.get(symbol)
        if mark is None:
            mark = self._data[symbol].last_price
            if mark is None:
                return position.entry_price
        return mark

    def _available_margin(self, account: Account) -> Decimal:
        """``netEquityAvailable``: what a new order or withdrawal may still use (the hot
        path of :meth:`_margin_state`)."""
        available = ZERO
        weights = self._weights
        collateral = self.collateral_symbol
        for symbol, balance in account.balances.items():
            weight = weights.get(symbol)
            if weight:
                if symbol != collateral:
                    weight *= self._asset_price(symbol)
                available += (balance.available + balance.staked) * weight
        bid_notional = account.open_bid_notional
        ask_notional = account.open_ask_notional
        rates = self._margin_rate
        for symbol, position in account.positions.items():
            mark = self._position_mark(symbol, position)
            net = position.net_quantity * mark
            available += net - position.net_cost
            bids = bid_notional.get(symbol, ZERO)
            asks = ask_notional.get(symbol, ZERO)
            available -= max(abs(net + bids), abs(net - asks)) * rates[symbol]
        for notional in (bid_notional, ask_notional):
            for symbol in notional:
                if symbol in account.positions:
                    continue
                if notional is ask_notional and symbol in bid_notional:
                    continue  # counted with the bids below
                bids = bid_notional.get(symbol, ZERO)
                asks = ask_notional.get(symbol, ZERO)
                available -= max(bids, asks) * rates[symbol]
        return available

    def _margin_state(
        self, account: Account, extra: tuple[str, str, Decimal] | None = None
    ) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal]:
        """(netEquity, weighted spot locked, initial requirement, maintenance requirement,
        exposure notional); ``extra`` = (symbol, side, notional) adds a hypothetical
        resting order."""
        equity = ZERO
        spot_locked = ZERO
        weights = self._weights
        for symbol, balance in account.balances.items():
            weight = weights.get(symbol)
            if weight:
                price = self._asset_price(symbol) * weight
                equity += (balance.available + balance.locked + balance.staked) * price
                spot_locked += balance.locked * price
        symbols = set(account.positions)
        symbols.update(account.open_bid_notional)
        symbols.update(account.open_ask_notional)
        if extra is not None:
            symbols.add(extra[0])
        initial = ZERO
        maintenance = ZERO
        exposure_total = ZERO
        for symbol in symbols:
            market = self._markets[symbol]
            position = account.positions.get(symbol)
            bids = account.open_bid_notional.get(symbol, ZERO)
            asks = account.open_ask_notional.get(symbol, ZERO)
            if extra is not None and extra[0] == symbol:
                if extra[1] == "Bid":
                    bids += extra[2]
                else:
                    asks += extra[2]
            net_notional = ZERO
            if position is not None:
                mark = self._position_mark(symbol, position)
                equity += position.unrealized(mark)
                net_notional = position.net_quantity * mark
            worst = max(abs(net_notional + bids), abs(net_notional - asks))
            initial += worst * self._margin_rate[symbol]
            maintenance += abs(net_notional) * market.mmf
            exposure_total += worst
        return equity, spot_locked, initial, maintenance, exposure_total

    def _order_margin_ok(self, account: Account, symbol: str, side: str, notional: Decimal) -> bool:
        """Would resting ``notional`` more on ``side`` of ``symbol`` keep
        ``netEquityAvailable >= 0``?  (Always yes when it does not raise the requirement.)"""
        position = account.positions.get(symbol)
        bids = account.open_bid_notional.get(symbol, ZERO)
        asks = account.open_ask_notional.get(symbol, ZERO)
        net_notional = ZERO
        if position is not None:
            net_notional = position.net_quantity * self._position_mark(symbol, position)
        before = max(abs(net_notional + bids), abs(net_notional - asks))
        if side == "Bid":
            bids += notional
        else:
            asks += notional
        after = max(abs(net_notional + bids), abs(net_notional - asks))
        if after <= before:
            return True
        return self._available_margin(account) >= (after - before) * self._margin_rate[symbol]

    def _has_perp_exposure(self, account: Account) -> bool:
        return bool(account.positions or account.open_bid_notional or account.open_ask_notional)

    def _equity_available(self, account: Account) -> Decimal:
        return self._available_margin(account)

    def _collateral_wire(self, account: Account) -> dict[str, Any]:
        equity, spot_locked, initial, maintenance, exposure = self._margin_state(account)
        rows = []
        assets_value = ZERO
        for symbol, balance in sorted(account.balances.items()):
            total = balance.available + balance.locked + balance.staked
            if not total:
                continue
            price = self._asset_price(symbol)
            weight = self._weight(symbol)
            notional = total * price
            assets_value += notional
            rows.append(
                {
                    "symbol": symbol,
                    "assetMarkPrice": _FMT(price, "f"),
                    "totalQuantity": _FMT(total, "f"),
                    "balanceNotional": _FMT(notional, "f"),
                    "collateralWeight": _FMT(weight, "f"),
                    "collateralValue": _FMT(notional * weight, "f"),
                    "openOrderQuantity": _FMT(balance.locked, "f"),
                    "lendQuantity": "0",
                    "availableQuantity": _FMT(balance.available, "f"),
                }
            )
        unrealized = ZERO
        futures = ZERO
        for symbol, position in account.positions.items():
            mark = self._reference_mark(symbol, position.entry_price)
            unrealized += position.unrealized(mark)
            futures += abs(position.net_quantity) * mark
        locked = initial + spot_locked
        wire: dict[str, Any] = {
            "assetsValue": _FMT(assets_value + unrealized, "f"),
            "borrowLiability": "0",
            "collateral": rows,
            "imf": _FMT((initial / exposure).quantize(_RATIO) if exposure else ZERO, "f"),
            "unsettledEquity": "0",
            "liabilitiesValue": "0",
            "mmf": _FMT((maintenance / exposure).quantize(_RATIO) if exposure else ZERO, "f"),
            "netEquity": _FMT(equity, "f"),
            "netEquityAvailable": _FMT(equity - locked, "f"),
            "netEquityLocked": _FMT(locked, "f"),
            "netExposureFutures": _FMT(futures, "f"),
            "pnlUnrealized": _FMT(unrealized, "f"),
        }
        if exposure:
            wire["marginFraction"] = _FMT((equity / exposure).quantize(_RATIO), "f")
        return wire
