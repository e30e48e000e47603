"""API health monitoring: call metrics, stream states, alerts, webhooks, Prometheus.

Public API:

- `stream_state_report(name, connected, last_message_at=None, state=None)`: the relay reports
  a stream (`market.SOL_USDC`, `subaccount.<pk>`) when it connects, drops, is refused
  (`state="refused: <reason>"`), or receives a message;
  `stream_stopped(name)` when it stops one on purpose (no alert, removed from the page).
- `low_balances_report(subaccount_id, breaches)` (async): the balances under their
  thresholds of one subaccount, as the balances selectors return them (`below_threshold`).
- `agent()`: this process's `MonitoringAgent`; `install()` attaches it to every exchange
  session (done on import of this package).

Importing this package installs the metrics hook (`trading.exchange.on_new_session`), so
import it before the process creates its first exchange session (TradingConfig.ready).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from trading.monitoring.agent import MonitoringAgent, autostart_allowed

_agent: MonitoringAgent | None = None
_installed = False


def agent() -> MonitoringAgent:
    """The process-wide agent (created on first use with the settings' flush interval)."""
    global _agent
    if _agent is None:
        from django.conf import settings

        flush_s = float(getattr(settings, "DASHBOARD_MONITORING_FLUSH_S", 5.0) or 5.0)
        _agent = MonitoringAgent(flush_s=flush_s)
    return _agent


def install() -> None:
    """Attach the agent to every exchange session created from now on (idempotent)."""
    global _installed
    if _installed:
        return
    from trading import exchange

    exchange.on_new_session(lambda session: agent().attach(session))
    for session in list(getattr(exchange, "_sessions", {}).values()):  # made before import
        agent().attach(session)
    _installed = True


def stream_state_report(
    name: str,
    connected: bool,
    last_message_at: datetime | float | None = None,
    state: str | None = None,
) -> None:
    """Record the state of an upstream stream (cheap; written to the database in the
    background). `last_message_at` is a datetime or epoch seconds; `state` the stream
    client's word (`refused: <reason>`), by default `connected` / `disconnected`."""
    current = agent()
    current.streams.report(name, connected, last_message_at, state)
    if autostart_allowed():
        current.ensure_running()


def stream_stopped(name: str) -> None:
    """The relay stopped stream `name` on purpose: it is forgotten, never reported as down."""
    current = agent()
    current.streams.stopped(name)
    if autostart_allowed():
        current.ensure_running()


async def low_balances_report(subaccount_id: int, breaches: Iterable) -> None:
    """Open/clear the low-balance alerts of one subaccount from its current breaches."""
    await agent().low_balances(subaccount_id, breaches)


install()

__all__ = [
    "MonitoringAgent",
    "agent",
    "install",
    "low_balances_report",
    "stream_state_report",
    "stream_stopped",
]
