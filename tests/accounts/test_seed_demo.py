"""`manage.py seed_demo --keys FILE` builds the demo team idempotently."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import crypto
from accounts.models import AuditEvent, Membership, Subaccount
from accounts.permissions import can_create_subaccounts
from tests.accounts.conftest import verified_client
from tests.fixtures.dashboard_server import ROOT
from trading.models import AlertWebhook


@pytest.fixture(scope="module")
def dumped_keys() -> str:
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "--dump-keys"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def _seed(path) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--keys", str(path), stdout=out)
    return out.getvalue()


def test_seed_creates_three_subaccounts_users_and_a_totp_device(db, tmp_path, dumped_keys):
    keys = json.loads(dumped_keys)[:3]
    path = tmp_path / "keys.json"
    path.write_text(dumped_keys)

    output = _seed(path)

    subaccounts = {s.name: s for s in Subaccount.objects.all()}
    assert set(subaccounts) == {k["label"] for k in keys}
    for key in keys:
        sealed = subaccounts[key["label"]].api_secret_sealed
        assert key["api_secret"] not in sealed
        assert crypto.open_sealed(sealed, owner=key["label"]) == key["api_secret"]
    roles = sorted(Membership.objects.values_list("user__username", "role"))
    assert roles == sorted(
        [("admin", "admin")] * 3 + [("trader", "trader")] * 2 + [("viewer", "viewer")]
    )
    device = TOTPDevice.objects.get(user__username="admin", confirmed=True)
    assert f"admin's TOTP URL: {device.config_url}" in output
    assert "admin-demo-password" in output
    assert can_create_subaccounts(device.user)


def test_seeding_twice_changes_nothing(db, tmp_path, dumped_keys):
    path = tmp_path / "keys.json"
    path.write_text(dumped_keys)
    first = _seed(path)
    sealed = dict(Subaccount.objects.values_list("name", "api_secret_sealed"))

    second = _seed(path)

    assert second == first  # same TOTP secret printed again
    assert dict(Subaccount.objects.values_list("name", "api_secret_sealed")) == sealed
    assert Membership.objects.count() == 6
    assert TOTPDevice.objects.count() == 1


def test_keys_from_stdin(db, dumped_keys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(dumped_keys))

    call_command("seed_demo", "--keys", "-", stdout=io.StringIO())

    assert Subaccount.objects.count() == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "--keys: not JSON"),
        ("[]", "--keys: expected a list of at least three keys"),
        ('[{"label": "A"}, {}, {}]', "--keys: entry 1 needs string fields api_key, api_secret"),
    ],
)
def test_bad_key_files_are_explained(db, tmp_path, content, message):
    path = tmp_path / "keys.json"
    path.write_text(content)

    with pytest.raises(CommandError, match=message):
        _seed(path)


def test_a_missing_file_is_explained(db, tmp_path):
    with pytest.raises(CommandError, match="--keys: cannot read"):
        _seed(tmp_path / "absent.json")


def test_the_demo_admin_manages_alert_webhooks(db, tmp_path, dumped_keys):
    path = tmp_path / "keys.json"
    path.write_text(dumped_keys)
    output = _seed(path)
    admin = get_user_model().objects.get(username="admin")
    client = verified_client(admin)

    health = client.get("/trading/health/").content.decode()
    added = client.post(
        "/trading/health/webhooks/", {"name": "desk chat", "url": "https://hooks.example.test/a"}
    )

    assert "admin is staff: manages alert webhooks on /trading/health/" in output
    assert "Alert webhooks" in health and "Add webhook" in health
    assert added.status_code == 302
    assert list(AlertWebhook.objects.values_list("name", flat=True)) == ["desk chat"]
    assert AuditEvent.objects.filter(action="alert_webhook_add", actor=admin).exists()
    trader_health = verified_client(get_user_model().objects.get(username="trader")).get(
        "/trading/health/"
    )
    assert "Add webhook" not in trader_health.content.decode()
