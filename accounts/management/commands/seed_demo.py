"""Seed the demo team: three subaccounts wired to the sandbox's keys and three users.

    python -m sandbox --dump-keys > keys.json
    python manage.py seed_demo --keys keys.json      # or: --keys -  (read stdin)

Idempotent: running it again keeps users, devices and subaccounts and only fixes what
differs. Keys are sealed but not checked with the exchange (it may still be starting).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import crypto
from accounts.audit import audit_record
from accounts.keys import KeyCheckError, key_pair_parse
from accounts.models import Membership, Role, Subaccount
from accounts.twofactor import TOTP_NAME, totp_base32

DEMO_USERS = {
    "admin": "admin-demo-password",
    "trader": "trader-demo-password",
    "viewer": "viewer-demo-password",
}
# Which of the three subaccounts (by position) each user is a member of, and as what.
DEMO_ROLES = {
    "admin": (Role.ADMIN, [0, 1, 2]),
    "trader": (Role.TRADER, [0, 1]),
    "viewer": (Role.VIEWER, [2]),
}


def load_keys(text: str) -> list[dict[str, str]]:
    """Parse `python -m sandbox --dump-keys` output; raise CommandError with what is wrong.

    Sample: ``[{"subaccount": 1, "label": "Desk A", "api_key": "NMVr...=",
    "api_secret": "OwWp...="}, ...]`` (also accepted wrapped as ``{"keys": [...]}``). The
    first three entries are used; the name is the label (or the subaccount id).
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"--keys: not JSON ({exc})") from exc
    if isinstance(data, dict):
        data = data.get("keys")
    if not isinstance(data, list) or len(data) < 3:
        raise CommandError("--keys: expected a list of at least three keys")
    keys = []
    for position, item in enumerate(data[:3], start=1):
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) for k in ("api_key", "api_secret")
        ):
            raise CommandError(f"--keys: entry {position} needs string fields api_key, api_secret")
        raw_name = item.get("label") or item.get("subaccount")
        name = "" if raw_name is None else str(raw_name).strip()
        if not name:
            raise CommandError(f"--keys: entry {position} has neither a label nor a subaccount")
        keys.append({"name": name, "api_key": item["api_key"], "api_secret": item["api_secret"]})
    return keys


class Command(BaseCommand):
    help = "Create (idempotently) the demo team wired to the sandbox exchange's keys."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--keys", required=True, help="JSON file from --dump-keys, or -")

    def handle(self, *args: Any, **options: Any) -> None:
        source = options["keys"]
        try:
            text = sys.stdin.read() if source == "-" else open(source).read()  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"--keys: cannot read {source}: {exc}") from exc
        keys = load_keys(text)
        with transaction.atomic():
            subaccounts = [self._subaccount(item) for item in keys]
            users = {name: self._user(name, password) for name, password in DEMO_USERS.items()}
            for name, (role, positions) in DEMO_ROLES.items():
                for position in positions:
                    Membership.objects.update_or_create(
                        user=users[name],
                        subaccount=subaccounts[position],
                        defaults={"role": role},
                    )
            if not users["admin"].is_staff:  # staff manage alert webhooks (API health page)
                users["admin"].is_staff = True
                users["admin"].save(update_fields=["is_staff"])
            users["admin"].user_permissions.add(
                Permission.objects.get(
                    codename="add_subaccount", content_type__app_label="accounts"
                )
            )
            device = TOTPDevice.objects.filter(user=users["admin"], confirmed=True).first()
            if device is None:
                device = TOTPDevice.objects.create(
                    user=users["admin"], name=TOTP_NAME, confirmed=True
                )
        self.stdout.write("Demo team ready. Sign in at /accounts/login/ as:")
        for name, password in DEMO_USERS.items():
            role, positions = DEMO_ROLES[name]
            where = ", ".join(subaccounts[p].name for p in positions)
            self.stdout.write(f"  {name:7} password {password!r:24} {role.value} on {where}")
        self.stdout.write("admin is staff: manages alert webhooks on /trading/health/")
        self.stdout.write(f"admin's TOTP secret (base32): {totp_base32(device)}")
        self.stdout.write(f"admin's TOTP URL: {device.config_url}")

    def _subaccount(self, item: dict[str, str]) -> Subaccount:
        try:
            pair = key_pair_parse(api_public_key=item["api_key"], api_secret=item["api_secret"])
        except KeyCheckError as exc:
            raise CommandError(f"--keys: subaccount {item['name']}: {exc.message}") from exc
        name = item["name"]
        subaccount = Subaccount.objects.filter(name=name).first()
        if subaccount is None:
            subaccount = Subaccount.objects.create(
                name=name,
                exchange_label=name,
                api_public_key=pair.api_public_key,
                api_secret_sealed=crypto.seal(pair.api_secret),
                notes="Demo subaccount on the sandbox exchange.",
            )
            audit_record(
                actor=None,
                action="seed_demo",
                subaccount=subaccount,
                parameters={"api_public_key": pair.api_public_key},
            )
        elif subaccount.api_public_key != pair.api_public_key or crypto.key_problem(subaccount):
            subaccount.api_public_key = pair.api_public_key
            subaccount.api_secret_sealed = crypto.seal(pair.api_secret)
            subaccount.save(update_fields=["api_public_key", "api_secret_sealed", "updated_at"])
            audit_record(
                actor=None,
                action="seed_demo_key",
                subaccount=subaccount,
                parameters={"api_public_key": pair.api_public_key},
            )
        return subaccount

    def _user(self, name: str, password: str) -> Any:
        user, created = get_user_model().objects.get_or_create(username=name)
        if created or not user.check_password(password):
            user.set_password(password)
            user.save()
        return user
