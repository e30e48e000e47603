"""Withdrawal URLs, in two lists because they live under two prefixes and namespaces.

`request_urlpatterns` are mounted at /trading/ (namespace `trading`): request, approve,
reject, send. `settings_urlpatterns` are the address book and policy pages, mounted at
/accounts/ in the `accounts` namespace by the root URLconf (`dashboard/urls.py`), where they
were first published: bookmarks and the names templates use keep working.
"""

from __future__ import annotations

from django.urls import path

from trading.withdrawals import settings_views, views

request_urlpatterns = [
    path("withdrawals/", views.withdrawals_index, name="withdrawals_index"),
    path(
        "subaccounts/<int:subaccount_id>/withdrawals/",
        views.withdrawals_page,
        name="withdrawals",
    ),
    path(
        "subaccounts/<int:subaccount_id>/withdrawals/request/",
        views.withdrawal_request_view,
        name="withdrawal_request",
    ),
    path(
        "subaccounts/<int:subaccount_id>/withdrawals/<int:withdrawal_id>/approve/",
        views.withdrawal_decide,
        {"decision": "approve"},
        name="withdrawal_approve",
    ),
    path(
        "subaccounts/<int:subaccount_id>/withdrawals/<int:withdrawal_id>/reject/",
        views.withdrawal_decide,
        {"decision": "reject"},
        name="withdrawal_reject",
    ),
    path(
        "subaccounts/<int:subaccount_id>/withdrawals/<int:withdrawal_id>/send/",
        views.withdrawal_decide,
        {"decision": "send"},
        name="withdrawal_send",
    ),
]

settings_urlpatterns = [
    path(
        "subaccounts/<int:subaccount_id>/withdrawals/",
        settings_views.withdrawals,
        name="withdrawals",
    ),
    path(
        "subaccounts/<int:subaccount_id>/withdrawals/policy/",
        settings_views.withdrawal_policy,
        name="withdrawal_policy",
    ),
    path(
        "subaccounts/<int:subaccount_id>/withdrawals/<int:address_id>/<slug:action>/",
        settings_views.withdrawal_address_action,
        name="withdrawal_address_action",
    ),
]
