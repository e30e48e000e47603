"""Whose an order is, from the desk tickets alone (trading.desk_tickets): the order id first,
what made an exchange-made order next, the clientId only among tickets still waiting for their
order id, never a refused one, and nobody when two members' tickets could be it."""

from __future__ import annotations

import itertools

import pytest

import trading.backpack.orders as desk_orders
from tests.factories import SubaccountFactory, UserFactory
from trading.desk_tickets import OrderRef, client_ids_free, client_ids_held, ticket_owners
from trading.models import OrderTicket

pytestmark = pytest.mark.django_db

Outcome = OrderTicket.Outcome
_tokens = itertools.count()


@pytest.fixture
def desk():
    return SubaccountFactory(name="Desk")


@pytest.fixture
def ann():
    return UserFactory(username="ann")


@pytest.fixture
def bob():
    return UserFactory(username="bob")


def _ticket(desk, actor, client_id: int, outcome: str = Outcome.PENDING, **fields) -> OrderTicket:
    return OrderTicket.objects.create(
        token=f"t{next(_tokens)}",
        client_id=client_id,
        subaccount=desk,
        actor=actor,
        symbol="SOL_USDC",
        outcome=outcome,
        **fields,
    )


def _owner(desk, ref: OrderRef) -> str | None:
    return ticket_owners(desk.pk, [ref]).owner(ref)


def test_an_order_id_names_its_ticket_whatever_shares_its_client_id(desk, ann, bob) -> None:
    _ticket(desk, ann, 5, Outcome.PLACED, order_id="111")
    _ticket(desk, bob, 5)  # pending, newer: its clientId is the same
    _ticket(desk, bob, 5, Outcome.REJECTED)

    assert _owner(desk, OrderRef("111", 5)) == "ann"


def test_a_client_id_names_only_a_ticket_still_waiting_for_its_order_id(desk, ann, bob) -> None:
    _ticket(desk, ann, 7)  # sent, its answer not in yet
    _ticket(desk, bob, 7, Outcome.REJECTED)  # never reached the exchange
    _ticket(desk, bob, 8, Outcome.PLACED, order_id="222")  # a different order

    assert _owner(desk, OrderRef("999", 7)) == "ann"
    assert _owner(desk, OrderRef("998", 8)) is None
    assert _owner(desk, OrderRef("997", 9)) is None


def test_two_members_pending_on_one_client_id_name_nobody(desk, ann, bob) -> None:
    _ticket(desk, ann, 9)
    _ticket(desk, ann, 10)
    _ticket(desk, ann, 10)  # the same member twice: still hers

    _ticket(desk, bob, 9)

    assert _owner(desk, OrderRef("333", 9)) is None
    assert _owner(desk, OrderRef("334", 10)) == "ann"


def test_what_made_an_exchange_made_order_names_its_ticket(desk, ann, bob) -> None:
    _ticket(desk, ann, 11, Outcome.PLACED, strategy_id="twap-1")
    _ticket(desk, ann, 12, Outcome.PLACED, order_id="444")
    _ticket(desk, bob, 11)  # pending on the TWAP's clientStrategyId
    _ticket(desk, bob, 12)

    slice_fill = OrderRef.of_fill("501", 11, "strategy twap-1")
    leg_fill = OrderRef.of_fill("502", 12, "order 444")
    leg = OrderRef("503", None, parent_id="444")

    assert [_owner(desk, r) for r in (slice_fill, leg_fill, leg)] == ["ann"] * 3
    assert OrderRef.of_fill("504", 12, "").client_id == 12  # no origin: the exchange's own


def test_tickets_of_another_subaccount_name_nothing_here(desk, ann) -> None:
    _ticket(SubaccountFactory(name="Other"), ann, 13, Outcome.PLACED, order_id="555")

    assert _owner(desk, OrderRef("555", 13)) is None


def test_the_desk_hands_out_no_client_id_a_ticket_holds_unless_refused(
    desk, ann, monkeypatch
) -> None:
    _ticket(desk, ann, 21, Outcome.REJECTED)
    _ticket(desk, ann, 22, Outcome.PLACED, order_id="666")
    _ticket(desk, ann, 23)
    monkeypatch.setattr(desk_orders, "_next_client_id", itertools.count(20))  # next: 21

    drawn = client_ids_free(desk.pk, 3)

    assert drawn[0] == 21  # the sentinel: the counter gave what was expected
    assert drawn[1] not in (22, 23) and drawn[2] not in (22, 23)
    assert client_ids_held(desk.pk, [21, 22, 23]) == {22: False, 23: True}
