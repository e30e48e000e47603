"""Sign-in, two-factor, subaccounts, members and the audit log.

The withdrawal settings pages join this namespace from `trading.withdrawals.urls` (the root
URLconf adds them), so their paths and names are unchanged.
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import audit_views, views
from accounts import auth_views as login_views

app_name = "accounts"

urlpatterns = [
    path("login/", login_views.PasswordThenCodeLoginView.as_view(), name="login"),
    path("login/verify/", login_views.login_verify, name="login_verify"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("security/", login_views.security, name="security"),
    path("theme/", views.theme_set, name="theme"),
    path("security/enrol/", login_views.totp_enrol, name="totp_enrol"),
    path("security/backup-codes/", login_views.backup_codes_renew, name="backup_codes"),
    path("subaccounts/", views.subaccount_list, name="subaccount_list"),
    path("subaccounts/add/", views.subaccount_add, name="subaccount_add"),
    path("subaccounts/<int:subaccount_id>/", views.subaccount_detail, name="subaccount_detail"),
    path("subaccounts/<int:subaccount_id>/key/", views.subaccount_key, name="subaccount_key"),
    path(
        "subaccounts/<int:subaccount_id>/settings/",
        views.subaccount_settings,
        name="subaccount_settings",
    ),
    path("subaccounts/<int:subaccount_id>/members/", views.members, name="members"),
    path(
        "subaccounts/<int:subaccount_id>/members/<int:membership_id>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path("audit/", audit_views.audit_log, name="audit_log"),
    path("audit/export.csv", audit_views.audit_export, name="audit_export"),
]
