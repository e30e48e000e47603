"""What the order path keeps between requests never outlives a change: the instances built for
a key are used again only while the key's statement answers the same rows (a revoked key, a
changed subaccount are seen at the next request), and the gate checks in the admitting step
only with a kept exposure read of the subaccount that step admitted, sizing a trigger order
there at its trigger price as `_gate` does."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role, Subaccount
from tests.factories import MembershipFactory, SubaccountFactory, UserFactory
from trading.gateway.admit import script_key_admit
from trading.gateway.errors import Refusal
from trading.gateway.keys import script_key_create, script_key_revoke
from trading.gateway.orders import _admit_and_open
from trading.gateway.routes import served
from trading.models import OrderTicket, RiskLimit, RiskReservation
from trading.risk.exposure import ExposureRead
from trading.risk.gate import Exposure

pytestmark = pytest.mark.django_db

ORDER = ("POST", "/api/v1/order")


@pytest.fixture
def trader_key():
    desk, other = SubaccountFactory(name="Desk A"), SubaccountFactory(name="Desk B")
    trader = UserFactory(username="tina")
    MembershipFactory(user=trader, subaccount=desk, role=Role.TRADER)
    MembershipFactory(user=trader, subaccount=other, role=Role.TRADER)
    RiskLimit.objects.create(subaccount=desk, max_order_notional=Decimal(100))
    key = script_key_create(actor=trader, name="k", subaccounts=[desk], can_trade=True, days=1)
    return desk, other, trader, key.key


def _admit(key):
    return script_key_admit(api_key=key.public_key, served=served(*ORDER), subaccount=None, ip=None)


def test_a_revoked_key_is_refused_at_the_next_request_after_being_admitted(trader_key) -> None:
    _desk, _other, trader, key = trader_key
    _admit(key)  # records the key's first use: the next read answers other rows
    second = _admit(key)
    third = _admit(key)

    script_key_revoke(actor=trader, key_id=key.pk)
    with pytest.raises(Refusal) as revoked:
        _admit(key)

    assert third.key is second.key  # the sentinel: the instances built are used again
    assert (revoked.value.status, revoked.value.code) == (401, "UNAUTHORIZED")
    assert revoked.value.message == "Invalid X-API-Key Header: this desk key was revoked"


def test_a_changed_subaccount_is_read_at_the_next_request(trader_key) -> None:
    desk, _other, _trader, key = trader_key
    first = _admit(key)

    Subaccount.objects.filter(pk=desk.pk).update(
        name="Desk A renamed", api_public_key="rotated-public-key"
    )
    second = _admit(key)

    assert first.subaccount.api_public_key != "rotated-public-key"
    assert (second.subaccount.name, second.subaccount.api_public_key) == (
        "Desk A renamed",
        "rotated-public-key",
    )


def _read(equity: str = "100000") -> ExposureRead:
    return ExposureRead(
        exposure=Exposure(net_equity=Decimal(equity)), positions={}, started_at=timezone.now()
    )


def _order(price: str, client_id: int) -> dict:
    return {
        "symbol": "SOL_USDC",
        "side": "Bid",
        "orderType": "Limit",
        "timeInForce": "IOC",
        "price": price,
        "quantity": "0.5",
        "clientId": client_id,
    }


def _open(key, order, read):
    return _admit_and_open.func(
        api_key=key.public_key,
        served=served(*ORDER),
        subaccount=None,
        ip=None,
        orders=[order],
        read=read,
    )


def test_the_gate_checks_in_the_admitting_step_only_with_that_subaccounts_read(
    trader_key,
) -> None:
    desk, other, _trader, key = trader_key

    _caller, _tickets, elsewhere = _open(key, _order("145", 1), (other.pk, _read()))
    _caller, _tickets, here = _open(key, _order("145", 2), (desk.pk, _read()))
    _caller, _tickets, too_big = _open(key, _order("1450", 3), (desk.pk, _read()))

    assert elsewhere is None  # the read of another subaccount: checked by `_gate` afterwards
    assert here.result.allowed
    assert RiskReservation.objects.filter(pk=here.reservation, subaccount=desk).exists()
    assert (too_big.result.allowed, too_big.result.limit, too_big.reservation) == (
        False,
        "max_order_notional",
        None,
    )
    assert RiskReservation.objects.count() == 1
    assert OrderTicket.objects.filter(subaccount=desk).count() == 3  # every order's ticket


def test_the_admitting_step_sizes_a_trigger_order_at_its_trigger(trader_key) -> None:
    desk, _other, _trader, key = trader_key
    stop = {"symbol": "SOL_USDC_PERP", "side": "Bid", "orderType": "Market", "triggerPrice": "150"}

    _caller, _tickets, fits = _open(
        key, {**stop, "triggerQuantity": "0.5", "clientId": 2}, (desk.pk, _read())
    )
    _caller, _tickets, sized = _open(
        key, {**stop, "triggerQuantity": "1", "clientId": 3}, (desk.pk, _read())
    )
    _caller, _tickets, at_trigger = _open(
        key, {**stop, "quantity": "0.5", "triggerPrice": "250", "clientId": 4}, (desk.pk, _read())
    )

    assert (fits.order.notional, fits.result.allowed) == (Decimal("75"), True)
    assert (sized.order.notional, sized.result.allowed, sized.result.limit) == (
        Decimal("150"),
        False,
        "max_order_notional",
    )
    assert (at_trigger.order.notional, at_trigger.result.allowed) == (Decimal("125"), False)
