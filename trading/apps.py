from __future__ import annotations

from django.apps import AppConfig


class TradingConfig(AppConfig):
    name = "trading"
    verbose_name = "Trading"

    def ready(self) -> None:
        # Installs the metrics hook on every exchange session this process creates.
        import trading.monitoring  # noqa: F401
