"""Trading pages, mounted at /trading/. Keep one block per page family; a family that lives
in its own package (withdrawals) brings its own list."""

from __future__ import annotations

from django.urls import path

from trading.views import balances, chart, ladder, market, orders, pnl, positions, twap
from trading.views import monitoring as monitoring_views
from trading.views import risk as risk_views
from trading.withdrawals.urls import request_urlpatterns

app_name = "trading"

urlpatterns = [
    # markets and the order ticket
    path("markets/", market.markets_index, name="markets"),
    path("market/<str:symbol>/", market.market_page, name="market"),
    path("market/<str:symbol>/klines/", market.market_klines, name="market_klines"),
    path("market/<str:symbol>/fills/", chart.market_fills, name="market_fills"),
    path("market/<str:symbol>/ticket/check/", market.ticket_validate, name="ticket_validate"),
    path("market/<str:symbol>/ticket/", market.ticket_submit, name="ticket_submit"),
    # ladder (scaled) orders of one subaccount on one market
    path(
        "subaccounts/<int:subaccount_id>/ladder/<str:symbol>/",
        ladder.ladder_page,
        name="ladder",
    ),
    path(
        "subaccounts/<int:subaccount_id>/ladder/<str:symbol>/preview/",
        ladder.ladder_preview_view,
        name="ladder_preview",
    ),
    path(
        "subaccounts/<int:subaccount_id>/ladder/<str:symbol>/send/",
        ladder.ladder_send,
        name="ladder_send",
    ),
    # TWAP (the exchange's scheduled strategy) of one subaccount on one market
    path("orders/twaps/", twap.team_twaps, name="team_twaps"),
    path(
        "subaccounts/<int:subaccount_id>/twaps/cancel/",
        twap.team_twap_cancel,
        name="team_twap_cancel",
    ),
    path("subaccounts/<int:subaccount_id>/twap/<str:symbol>/", twap.twap_page, name="twap"),
    path(
        "subaccounts/<int:subaccount_id>/twap/<str:symbol>/running/",
        twap.twap_list,
        name="twap_list",
    ),
    path(
        "subaccounts/<int:subaccount_id>/twap/<str:symbol>/start/",
        twap.twap_start_view,
        name="twap_start",
    ),
    path(
        "subaccounts/<int:subaccount_id>/twap/<str:symbol>/cancel/",
        twap.twap_cancel_view,
        name="twap_cancel",
    ),
    # open orders, history
    path("orders/", orders.orders_page, name="orders"),
    path(
        "subaccounts/<int:subaccount_id>/orders/cancel/", orders.cancel_order, name="order_cancel"
    ),
    path(
        "subaccounts/<int:subaccount_id>/orders/cancel-all/",
        orders.cancel_all,
        name="orders_cancel_all",
    ),
    path(
        "subaccounts/<int:subaccount_id>/regions/", orders.account_regions, name="account_regions"
    ),
    path("history/", orders.history_page, name="history"),
    path("history/fills.csv", orders.fills_csv, name="fills_csv"),
    path("history/orders.csv", orders.orders_csv, name="orders_csv"),
    # positions
    path("positions/", positions.positions_page, name="positions"),
    path(
        "subaccounts/<int:subaccount_id>/positions/close/",
        positions.close_position,
        name="position_close",
    ),
    path(
        "subaccounts/<int:subaccount_id>/positions/exit/",
        positions.exit_set,
        name="position_exit_set",
    ),
    path(
        "subaccounts/<int:subaccount_id>/positions/exit/remove/",
        positions.exit_remove,
        name="position_exit_remove",
    ),
    # team balances
    path("balances/", balances.balances_page, name="balances"),
    path("balances/totals/", balances.balances_totals, name="balances_totals"),
    path("balances/<int:subaccount_id>/", balances.balances_subaccount, name="balances_subaccount"),
    path(
        "balances/<int:subaccount_id>/thresholds/",
        balances.balances_thresholds,
        name="balances_thresholds",
    ),
    # withdrawals under policy (their address book and policy pages are under /accounts/)
    *request_urlpatterns,
    # PnL from the ledger (issue 14)
    path("pnl/", pnl.pnl_page, name="pnl"),
    path("pnl/funding/", pnl.funding_page, name="funding"),
    path("pnl/closed/", pnl.closed_page, name="closed_positions"),
    # API health, alerts
    path("health/", monitoring_views.health_page, name="health"),
    path("health/webhooks/", monitoring_views.webhook_add, name="alert_webhook_add"),
    path(
        "health/webhooks/<int:webhook_id>/remove/",
        monitoring_views.webhook_remove,
        name="alert_webhook_remove",
    ),
    path("alerts/bell/", monitoring_views.alerts_bell, name="alerts_bell"),
    path("alerts/seen/", monitoring_views.alerts_seen, name="alerts_seen"),
    # risk gate (issue 15)
    path("subaccounts/<int:subaccount_id>/risk/", risk_views.risk_page, name="risk"),
    path(
        "subaccounts/<int:subaccount_id>/risk/limits/",
        risk_views.risk_limits_view,
        name="risk_limits",
    ),
    path("subaccounts/<int:subaccount_id>/risk/kill/", risk_views.kill_switch_view, name="kill"),
    path(
        "subaccounts/<int:subaccount_id>/risk/loss-release/",
        risk_views.loss_release_view,
        name="loss_release",
    ),
    path("risk/kill-all/", risk_views.kill_all_view, name="kill_all"),
    path(
        "risk/kill-progress/<slug:run>/",
        risk_views.kill_progress_view,
        name="kill_progress",
    ),
]
