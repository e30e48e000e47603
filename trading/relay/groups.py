"""Channel-layer group names. Channels allows ASCII letters, digits, '-', '_' and '.' under 100
characters; symbols are checked before they become part of a name."""

from __future__ import annotations

import re

SYMBOL = re.compile(r"^[A-Z0-9]{1,20}(_[A-Z0-9]{1,20}){1,2}$")
CONTROL_CHANNEL = "relay-control"


class BadGroupName(ValueError):
    """A symbol or id that cannot name a group (and so names no market we serve)."""


def market_group(symbol: str) -> str:
    if not SYMBOL.match(symbol):
        raise BadGroupName(f"not a market symbol: {symbol!r}")
    return f"market.{symbol}"


def subaccount_group(subaccount_id: int) -> str:
    if not isinstance(subaccount_id, int) or subaccount_id <= 0:
        raise BadGroupName(f"not a subaccount id: {subaccount_id!r}")
    return f"subaccount.{subaccount_id}"


def script_stream_group(subaccount_id: int) -> str:
    """Raw private events of one subaccount for scripts on ``/bpx/ws`` (issue 17)."""
    return f"bpx.{subaccount_group(subaccount_id)}"


def overview_group(subaccount_id: int) -> str:
    """Overview pages showing this subaccount: told (coalesced) that its figures changed."""
    if not isinstance(subaccount_id, int) or subaccount_id <= 0:
        raise BadGroupName(f"not a subaccount id: {subaccount_id!r}")
    return f"overview.{subaccount_id}"


def alerts_group(user_id: int) -> str:
    return f"alerts.{int(user_id)}"
