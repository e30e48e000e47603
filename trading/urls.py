"""Trading pages, mounted at /trading/. Keep one block per page family; the balances and
withdrawals pages add their own lines below."""

from __future__ import annotations

from django.urls import path

from trading.views import balances, market, orders, positions

app_name = "trading"

urlpatterns = [
    # markets and the order ticket
    path("markets/", market.markets_index, name="markets"),
    path("market/<str:symbol>/", market.market_page, name="market"),
    path("market/<str:symbol>/klines/", market.market_klines, name="market_klines"),
    path("market/<str:symbol>/ticket/check/", market.ticket_validate, name="ticket_validate"),
    path("market/<str:symbol>/ticket/", market.ticket_submit, name="ticket_submit"),
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
    # positions
    path("positions/", positions.positions_page, name="positions"),
    path(
        "subaccounts/<int:subaccount_id>/positions/close/",
        positions.close_position,
        name="position_close",
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
]
