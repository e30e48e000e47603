"""Subaccount list, detail, add, key rotation and settings pages."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import crypto
from accounts.exchange_assets import forget_asset_names
from accounts.models import AuditEvent, LowBalanceThreshold, Role, Subaccount
from tests.accounts.conftest import fresh_totp, signed_in_client, totp_now, verified_client
from tests.factories import MembershipFactory, SubaccountFactory, SuperuserFactory, keypair_for


@pytest.fixture
def admin(db):
    return MembershipFactory(role=Role.ADMIN, subaccount__name="Desk A")


def test_list_shows_only_the_members_subaccounts_with_their_role(db):
    mine = MembershipFactory(role=Role.TRADER, subaccount__name="Desk Mine")
    SubaccountFactory(name="Desk Other")

    html = signed_in_client(mine.user).get("/accounts/subaccounts/").content.decode()

    assert 'data-subaccount="Desk Mine"' in html and "Trader" in html
    assert "Desk Other" not in html


def test_detail_shows_the_public_key_and_fingerprint_never_the_secret(db):
    public, secret = keypair_for()
    viewer = MembershipFactory(role=Role.VIEWER, subaccount__keypair=(public, secret))

    html = (
        signed_in_client(viewer.user)
        .get(f"/accounts/subaccounts/{viewer.subaccount_id}/")
        .content.decode()
    )

    assert public in html
    assert crypto.public_key_fingerprint(public) in html
    assert secret not in html
    assert "Rotate the key" not in html  # viewers get no admin links


def test_detail_says_plainly_when_the_key_encryption_key_is_missing(admin, monkeypatch):
    monkeypatch.setattr("accounts.crypto.configured_keys", lambda: (b"z" * 32,))

    html = (
        verified_client(admin.user)
        .get(f"/accounts/subaccounts/{admin.subaccount_id}/")
        .content.decode()
    )

    assert "cannot decrypt the API secret of subaccount Desk A: key missing" in html


def test_add_form_shows_each_local_key_problem_next_to_the_field(db):
    root = SuperuserFactory()
    public, _ = keypair_for()

    response = verified_client(root).post(
        "/accounts/subaccounts/add/",
        {"name": "Desk N", "api_public_key": public, "api_secret": "%%%"},
    )

    html = response.content.decode()
    assert 'data-field="api_secret">The API secret is not valid base64.' in html
    assert "%%%" not in html  # the secret field is never rendered back
    assert not Subaccount.objects.exists()


WRONG_CODE = "That two-factor code is not right (or was used already). Type the current code."
NO_CODE = "Type the current two-factor code from your authenticator app: this change needs one."


def _beside(response, field: str) -> str:
    """The error shown beside `field` on the page, or ''."""
    found = re.search(rf'data-field="{field}">([^<]*)</div>', response.content.decode())
    return found.group(1) if found else ""


def _code(user) -> str:
    return fresh_totp(TOTPDevice.objects.get(user=user))


def _wrong(user) -> str:
    return "000000" if totp_now(TOTPDevice.objects.get(user=user)) != "000000" else "111111"


def test_adding_a_subaccount_takes_a_fresh_two_factor_code(db, sandbox, settings):
    # its key trades and withdraws: registering one is a key setting like rotating it
    settings.BACKPACK_API_URL, settings.BACKPACK_WS_URL = sandbox.api_url, sandbox.ws_url
    root = SuperuserFactory()
    client = verified_client(root)
    key = sandbox.keys[3]
    typed = {
        "name": "Desk N",
        "exchange_label": "desk-n",
        "api_public_key": key["api_key"],
        "api_secret": key["api_secret"],
        "notes": "scalping",
    }

    without = client.post("/accounts/subaccounts/add/", typed)
    wrong = client.post("/accounts/subaccounts/add/", {**typed, "otp_code": _wrong(root)})
    nothing_added = not Subaccount.objects.exists()
    right = client.post("/accounts/subaccounts/add/", {**typed, "otp_code": _code(root)})

    assert nothing_added
    for refused, said in ((without, NO_CODE), (wrong, WRONG_CODE)):
        html = refused.content.decode()
        assert refused.status_code == 200
        assert _beside(refused, "otp_code") == said
        for kept in ("Desk N", "desk-n", key["api_key"], "scalping"):
            assert kept in html  # what was typed is there to correct, but the secret
        assert key["api_secret"] not in html
    denied = AuditEvent.objects.filter(action="subaccount_create", result="denied").order_by("pk")
    assert list(denied.values_list("actor", "detail")) == [
        (root.pk, "no two-factor code typed"),
        (root.pk, "two-factor code not accepted"),
    ]
    assert right.status_code == 302
    assert Subaccount.objects.get().name == "Desk N"


def test_the_add_page_says_how_long_to_wait_while_wrong_codes_hold_the_device(
    db, sandbox, settings
):
    settings.BACKPACK_API_URL, settings.BACKPACK_WS_URL = sandbox.api_url, sandbox.ws_url
    settings.OTP_TOTP_THROTTLE_FACTOR = 10  # held 10 s after one wrong code
    root = SuperuserFactory()
    client = verified_client(root)
    key = sandbox.keys[3]
    typed = {"name": "Desk N", "api_public_key": key["api_key"], "api_secret": key["api_secret"]}
    client.post("/accounts/subaccounts/add/", {**typed, "otp_code": _wrong(root)})

    right_code = totp_now(TOTPDevice.objects.get(user=root))
    held = client.post("/accounts/subaccounts/add/", {**typed, "otp_code": right_code})

    assert _beside(held, "otp_code") == (
        "Too many wrong codes: wait 10 seconds, then type the current code."
    )
    assert not Subaccount.objects.exists()


def test_rotating_the_key_takes_a_fresh_two_factor_code(admin, sandbox, settings):
    settings.BACKPACK_API_URL, settings.BACKPACK_WS_URL = sandbox.api_url, sandbox.ws_url
    old_key = admin.subaccount.api_public_key
    client = verified_client(admin.user)
    url = f"/accounts/subaccounts/{admin.subaccount_id}/key/"
    key = sandbox.keys[3]
    typed = {"api_public_key": key["api_key"], "api_secret": key["api_secret"]}

    without = client.post(url, typed)
    wrong = client.post(url, {**typed, "otp_code": _wrong(admin.user)})
    admin.subaccount.refresh_from_db()
    unchanged = admin.subaccount.api_public_key
    right = client.post(url, {**typed, "otp_code": _code(admin.user)})

    assert unchanged == old_key
    for refused, said in ((without, NO_CODE), (wrong, WRONG_CODE)):
        html = refused.content.decode()
        assert refused.status_code == 200
        assert _beside(refused, "otp_code") == said
        assert f'value="{key["api_key"]}"' in html  # kept to correct; the secret is not
        assert key["api_secret"] not in html
    denied = AuditEvent.objects.filter(action="subaccount_key_rotate", result="denied").order_by(
        "pk"
    )
    assert list(denied.values_list("subaccount", "detail")) == [
        (admin.subaccount_id, "no two-factor code typed"),
        (admin.subaccount_id, "two-factor code not accepted"),
    ]
    assert right.status_code == 302
    admin.subaccount.refresh_from_db()
    assert admin.subaccount.api_public_key == key["api_key"]


def test_admin_rotates_the_key_after_the_exchange_accepts_it(admin, sandbox, settings):
    settings.BACKPACK_API_URL, settings.BACKPACK_WS_URL = sandbox.api_url, sandbox.ws_url
    key = sandbox.keys[3]
    client = verified_client(admin.user)

    response = client.post(
        f"/accounts/subaccounts/{admin.subaccount_id}/key/",
        {
            "api_public_key": key["api_key"],
            "api_secret": key["api_secret"],
            "otp_code": _code(admin.user),
        },
    )

    assert response.status_code == 302
    admin.subaccount.refresh_from_db()
    assert admin.subaccount.api_public_key == key["api_key"]
    assert crypto.subaccount_credentials(admin.subaccount).api_secret() == key["api_secret"]
    assert AuditEvent.objects.filter(action="subaccount_key_rotate", result="ok").count() == 1


def test_rotation_with_a_key_the_exchange_rejects_keeps_the_old_key(admin, sandbox, settings):
    settings.BACKPACK_API_URL, settings.BACKPACK_WS_URL = sandbox.api_url, sandbox.ws_url
    old_key = admin.subaccount.api_public_key
    public, secret = keypair_for()
    client = verified_client(admin.user)

    response = client.post(
        f"/accounts/subaccounts/{admin.subaccount_id}/key/",
        {"api_public_key": public, "api_secret": secret, "otp_code": _code(admin.user)},
    )

    assert "The exchange rejected this key:" in response.content.decode()
    admin.subaccount.refresh_from_db()
    assert admin.subaccount.api_public_key == old_key


@pytest.fixture
def on_sandbox(sandbox, settings):
    """Asset names are checked against the still sandbox's markets."""
    settings.BACKPACK_API_URL = sandbox.api_url
    forget_asset_names()
    return sandbox


def test_settings_save_notional_and_low_balance_thresholds_as_decimals(admin, on_sandbox):
    response = verified_client(admin.user).post(
        f"/accounts/subaccounts/{admin.subaccount_id}/settings/",
        {
            "exchange_label": "desk-a",
            "is_active": "on",
            "order_confirm_notional": "25000.50",
            "order_confirm_equity_pct": "12.5",
            "order_confirm_price_pct": "5",
            "low_balance": "usdc 1000.25\nSOL 0.000000000000000001",
        },
    )

    assert response.status_code == 302
    admin.subaccount.refresh_from_db()
    assert admin.subaccount.order_confirm_notional == Decimal("25000.50")
    assert admin.subaccount.order_confirm_equity_pct == Decimal("12.5")
    minimums = dict(LowBalanceThreshold.objects.values_list("asset", "minimum"))
    assert minimums == {"USDC": Decimal("1000.25"), "SOL": Decimal("1E-18")}
    events = AuditEvent.objects.filter(subaccount=admin.subaccount)
    assert set(events.values_list("action", flat=True)) == {
        "subaccount_settings",
        "low_balance_thresholds_set",
    }
    assert events.get(action="low_balance_thresholds_set").parameters == {
        "minimums": {"USDC": "1000.25", "SOL": "0.000000000000000001"}
    }


GUARD = {"order_confirm_equity_pct": "10", "order_confirm_price_pct": "5"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"low_balance": "USDC 10\nDOGE 5"}, "Line 2: the exchange has no asset DOGE."),
        (
            {"low_balance": "USDC 1e3"},
            "Line 1: &#x27;1e3&#x27; has an exponent; write the number out in full",
        ),
        (
            {"low_balance": "USDC 1,000"},
            "Line 1: &#x27;1,000&#x27; has a comma; write no thousands separators",
        ),
        (
            {"order_confirm_notional": "٥٠٠٠"},
            "&#x27;٥٠٠٠&#x27; has a digit that is not 0-9; type the number with plain digits.",
        ),
        ({"order_confirm_notional": "0"}, "&#x27;0&#x27; must be above zero."),
        ({"order_confirm_notional": "5_000"}, "&#x27;5_000&#x27; has an underscore"),
    ],
)
def test_settings_refuse_a_misread_number_or_an_unknown_asset(admin, on_sandbox, fields, message):
    response = verified_client(admin.user).post(
        f"/accounts/subaccounts/{admin.subaccount_id}/settings/", {**GUARD, **fields}
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not LowBalanceThreshold.objects.exists()
    admin.subaccount.refresh_from_db()
    assert admin.subaccount.order_confirm_notional is None


def test_settings_report_every_bad_threshold_line_at_once(admin, on_sandbox):
    typed = "USDC 10\nSOL lots\nBTC\nUSDC 5\n<b> 3"
    response = verified_client(admin.user).post(
        f"/accounts/subaccounts/{admin.subaccount_id}/settings/", {**GUARD, "low_balance": typed}
    )

    page = response.content.decode()
    for problem in (
        "Line 2: &#x27;lots&#x27; is not a number.",
        "Line 3: write the asset and the minimum, e.g. &#x27;USDC 1000&#x27;.",
        "Line 4: USDC is listed twice.",
        "Line 5: &#x27;&lt;b&gt;&#x27; is not an asset symbol.",
    ):
        assert problem in page
    assert "SOL lots\nBTC\nUSDC 5\n&lt;b&gt; 3</textarea>" in page  # kept to correct
    assert not LowBalanceThreshold.objects.exists()


def test_settings_with_a_bad_threshold_line_name_the_line(admin, on_sandbox):
    response = verified_client(admin.user).post(
        f"/accounts/subaccounts/{admin.subaccount_id}/settings/",
        {**GUARD, "low_balance": "USDC 10\nSOL lots"},
    )

    assert "Line 2: &#x27;lots&#x27; is not a number." in response.content.decode()
    assert not LowBalanceThreshold.objects.exists()


def test_the_server_refuses_every_settings_field_the_page_marks_required(admin, on_sandbox):
    client = verified_client(admin.user)
    url = f"/accounts/subaccounts/{admin.subaccount_id}/settings/"
    page = client.get(url).content.decode()
    marked = re.findall(r'<(?:input|textarea|select)[^>]*\bname="(\w+)"[^>]*\brequired\b', page)

    for name in marked:
        response = client.post(url, {**GUARD, "exchange_label": "desk-a", name: ""})
        assert response.status_code == 200, name
        assert f'data-field="{name}"' in response.content.decode(), name
    # the exchange's label is optional on the page, and so on the server
    assert marked == ["order_confirm_equity_pct", "order_confirm_price_pct"]
    assert client.post(url, {**GUARD, "exchange_label": ""}).status_code == 302
