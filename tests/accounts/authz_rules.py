"""Matrix rules for the dashboard's own URLs, the accounts app and the Django admin."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model

from tests.accounts.authz import (
    ADMIN_OF_A,
    DENY,
    LOGIN,
    OK,
    PUBLIC,
    SIGNED_IN,
    STAFF,
    TWO_FACTOR,
    VIEWER_OF_A,
    Rule,
    WsRule,
    expect,
    on_a,
)

RULES: dict[str, Rule] = {
    # dashboard
    "home": SIGNED_IN,
    "healthz": PUBLIC,
    "favicon": PUBLIC,  # a redirect to the static icon
    # sign-in and two-factor
    "accounts:login": PUBLIC,
    "accounts:login_verify": Rule(expect(LOGIN, TWO_FACTOR, TWO_FACTOR, OK, OK, OK)),
    "accounts:logout": Rule(expect(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN), method="post"),
    # anyone signed in saves their own theme (no one else's); visitors get 401
    "accounts:theme": Rule(
        expect(DENY, OK, OK, OK, OK, OK), method="post", data=lambda w: {"theme": "dark"}
    ),
    "accounts:security": SIGNED_IN,
    "accounts:totp_enrol": SIGNED_IN,
    "accounts:backup_codes": Rule(expect(LOGIN, TWO_FACTOR, TWO_FACTOR, OK, OK, OK), method="post"),
    # subaccounts
    "accounts:subaccount_list": SIGNED_IN,
    "accounts:subaccount_add": Rule(expect(LOGIN, DENY, DENY, DENY, OK, OK)),
    "accounts:subaccount_detail": Rule(VIEWER_OF_A, kwargs=on_a()),
    "accounts:subaccount_key": Rule(ADMIN_OF_A, kwargs=on_a()),
    "accounts:subaccount_settings": Rule(ADMIN_OF_A, kwargs=on_a()),
    "accounts:members": Rule(ADMIN_OF_A, kwargs=on_a()),
    "accounts:member_remove": Rule(
        ADMIN_OF_A,
        method="post",
        kwargs=on_a(membership_id=lambda w: w.memberships["viewer"].pk),
    ),
    "accounts:withdrawals": Rule(ADMIN_OF_A, kwargs=on_a()),
    "accounts:withdrawal_policy": Rule(
        ADMIN_OF_A, method="post", kwargs=on_a(), data=lambda w: {"daily_limits": "USDC 1"}
    ),
    "accounts:withdrawal_address_action": Rule(
        ADMIN_OF_A,
        method="post",
        kwargs=on_a(address_id=lambda w: w.address.pk, action=lambda w: "confirm"),
        data=lambda w: {"otp_code": "000000"},
    ),
    # the audit log is open to every member; its rows are filtered by membership
    # an admin of any subaccount sets the team's time zone (the admins here use two-factor)
    "accounts:team_settings": Rule(expect(LOGIN, DENY, DENY, OK, OK, OK)),
    "accounts:audit_log": SIGNED_IN,
    "accounts:audit_export": SIGNED_IN,
}

WS_RULES: dict[str, WsRule] = {
    "ws/presence/": WsRule(expect(DENY, OK, OK, OK, OK, OK), path=lambda w: "/ws/presence/"),
}


# --- the Django admin: staff only; inside, Django's own model permissions -----------------
def _superuser_can(model_admin, view: str) -> bool:
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = get_user_model()(is_superuser=True, is_staff=True, is_active=True)
    if view == "add":
        return model_admin.has_add_permission(request)
    if view == "delete":
        return model_admin.has_delete_permission(request, None)
    return model_admin.has_view_or_change_permission(request, None)


def _device_of(world) -> dict[str, int]:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return {"pk": TOTPDevice.objects.filter(user=world.users["admin"]).first().pk}


def _admin_rules() -> dict[str, Rule]:
    """One rule per admin URL: non-staff go to the admin's sign-in, the superuser gets what
    the ModelAdmin allows. Object ids point at no row ("0"), so nothing is touched."""
    rules: dict[str, Rule] = {
        "admin:index": Rule(STAFF),
        "admin:login": PUBLIC,
        # Logging out is harmless: others are sent to the admin index, the superuser signs out.
        "admin:logout": Rule(expect(OK, OK, OK, OK, OK, LOGIN), method="post"),
        "admin:password_change": Rule(STAFF),
        "admin:password_change_done": Rule(STAFF),
        "admin:jsi18n": Rule(STAFF),
        "admin:autocomplete": Rule(
            STAFF,
            data=lambda w: {
                "app_label": "accounts",
                "model_name": "membership",
                "field_name": "user",
                "term": "a",
            },
        ),
        # No model here defines get_absolute_url, so "view on site" is a 404 even for staff.
        "admin:view_on_site": Rule(
            expect(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, DENY),
            kwargs=lambda w: {"content_type_id": 1, "object_id": "0"},
        ),
        "admin:app_list": Rule(STAFF, kwargs=lambda w: {"app_label": "accounts"}),
        "route:admin/(?P<url>.*)$": Rule(
            expect(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, DENY), path=lambda w: "/admin/nowhere/"
        ),
        # OTP_ADMIN_HIDE_SENSITIVE_DATA: nobody reads another user's TOTP secret in the admin.
        "admin:otp_totp_totpdevice_config": Rule(
            expect(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, DENY), kwargs=lambda w: _device_of(w)
        ),
        "admin:otp_totp_totpdevice_qrcode": Rule(
            expect(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, DENY), kwargs=lambda w: _device_of(w)
        ),
        "admin:auth_user_password_change": Rule(
            STAFF, kwargs=lambda w: {"id": w.users["viewer"].pk}
        ),
    }
    for model, model_admin in admin.site._registry.items():
        app, name = model._meta.app_label, model._meta.model_name
        for view in ("changelist", "add", "history", "delete", "change"):
            allowed = _superuser_can(model_admin, view if view in ("add", "delete") else "view")
            outcome = expect(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, OK if allowed else DENY)
            kwargs = None if view in ("changelist", "add") else (lambda w: {"object_id": "0"})
            rules[f"admin:{app}_{name}_{view}"] = Rule(outcome, kwargs=kwargs)
        rules[f"route:admin/{app}/{name}/<path:object_id>/"] = Rule(
            STAFF, path=lambda w, app=app, name=name: f"/admin/{app}/{name}/0/"
        )
    return rules


RULES.update(_admin_rules())
