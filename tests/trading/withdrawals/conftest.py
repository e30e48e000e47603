"""Fixtures: a subaccount holding a sandbox key, two admins with authenticators, the
sandbox's 2FA-exempt address in the book, and a real client (optionally behind a proxy
that loses the exchange's answers)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal

import aiohttp
import pytest
from aiohttp import web
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role
from tests.factories import (
    MembershipFactory,
    SubaccountFactory,
    TOTPDeviceFactory,
    UserFactory,
    WithdrawalAddressFactory,
    WithdrawalLimitFactory,
    WithdrawalPolicyFactory,
)
from trading.backpack import Credentials, ExchangeSession

EXEMPT_ADDRESS = "Desk1SoLanaWithdrawa1Address11111111111111"
WITHDRAW_PATH = "/wapi/v1/capital/withdrawals"


def code_of(user) -> str:
    """The code the user's authenticator app shows right now."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def fresh_code_of(user) -> str:
    """A code the user's device accepts even if this time step was used already (tests only:
    one person making two changes within 30 seconds)."""
    TOTPDevice.objects.filter(user=user, confirmed=True).update(
        last_t=-1, throttling_failure_count=0
    )
    return code_of(user)


@dataclass
class Desk:
    subaccount: object
    alice: object  # admin who requests
    bob: object  # second admin
    address: object


@pytest.fixture
def desk(sandbox, settings) -> Desk:
    """Subaccount "Desk A" (sandbox subaccount 1) with two admins, a 1000 USDC daily limit,
    second-admin approval, and the sandbox's exempt Solana address (approved)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    key = sandbox.keys[1]
    subaccount = SubaccountFactory(name="Desk A", keypair=(key["api_key"], key["api_secret"]))
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    for user in (alice, bob):
        MembershipFactory(user=user, subaccount=subaccount, role=Role.ADMIN)
        TOTPDeviceFactory(user=user)
    WithdrawalPolicyFactory(subaccount=subaccount, second_admin_required=True)
    WithdrawalLimitFactory(subaccount=subaccount, asset="USDC", daily_limit=Decimal("1000"))
    address = WithdrawalAddressFactory(
        subaccount=subaccount,
        blockchain="Solana",
        address=EXEMPT_ADDRESS,
        label="treasury",
        added_by=alice,
        approved_by=bob,
    )
    return Desk(subaccount, alice, bob, address)


def client_on(session: ExchangeSession, sandbox, desk: Desk):
    key = sandbox.keys[1]
    return session.client(
        Credentials(key["api_key"], key["api_secret"]), label=str(desk.subaccount.pk)
    )


@pytest.fixture
async def exchange(sandbox) -> AsyncIterator[ExchangeSession]:
    """A session straight on the sandbox."""
    async with ExchangeSession(api_url=sandbox.api_url, timeout_s=3.0) as session:
        yield session


@dataclass
class LossyProxy:
    """Forwards to the sandbox; the next `lose` withdrawal POSTs are executed but their
    answers cut off, the next `drop` ones are cut off before reaching the exchange; while
    `fail_history` is set, reading the withdrawal history answers 500."""

    target: str
    url: str = ""
    lose: int = 0
    drop: int = 0
    fail_history: bool = False
    withdrawals_seen: int = 0
    withdrawal_bodies: list = field(default_factory=list)  # the POSTs' JSON bodies, as sent


async def _start_proxy(proxy: LossyProxy) -> tuple[web.AppRunner, aiohttp.ClientSession]:
    upstream = aiohttp.ClientSession()

    async def forward(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        is_withdrawal = request.method == "POST" and request.path == WITHDRAW_PATH
        if request.method == "GET" and request.path == WITHDRAW_PATH and proxy.fail_history:
            return web.json_response(
                {"code": "SERVER_ERROR", "message": "Internal server error"}, status=500
            )
        if is_withdrawal:
            proxy.withdrawals_seen += 1
            proxy.withdrawal_bodies.append(json.loads(body))
            if proxy.drop:
                proxy.drop -= 1
                request.transport.close()
                return web.Response()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host",)}
        async with upstream.request(
            request.method, proxy.target + request.path_qs, data=body or None, headers=headers
        ) as answer:
            content = await answer.read()
            if is_withdrawal and proxy.lose:
                proxy.lose -= 1
                request.transport.close()
                return web.Response()
            return web.Response(
                body=content,
                status=answer.status,
                headers={"Content-Type": answer.headers.get("Content-Type", "application/json")},
            )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    proxy.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    return runner, upstream


@pytest.fixture
async def lossy(sandbox) -> AsyncIterator[tuple[LossyProxy, ExchangeSession]]:
    """A proxy in front of the sandbox and a session that goes through it."""
    proxy = LossyProxy(target=sandbox.api_url)
    runner, upstream = await _start_proxy(proxy)
    async with ExchangeSession(api_url=proxy.url, timeout_s=3.0) as session:
        yield proxy, session
    await upstream.close()
    await runner.cleanup()
