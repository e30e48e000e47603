"""Whose an order is, from the desk tickets alone (trading.desk_tickets): the order id first,
what made an exchange-made order next, the clientId only among tickets still waiting for their
order id, never a refused one, and nobody when two members' tickets could be it. A ticket
older than its token's 30 days still names its order's member; only a refused one goes."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

import trading.backpack.orders as desk_orders
from tests.factories import SubaccountFactory, UserFactory
from trading.desk_tickets import (
    OrderRef,
    client_ids_free,
    client_ids_held,
    ticket_owners,
    tickets_forget_old,
)
from trading.models import OrderTicket
from trading.models.ledger import LedgerEntry
from trading.services import TICKETS_KEPT

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


def _recorded_long_ago(*tickets: OrderTicket) -> None:
    long_ago = timezone.now() - TICKETS_KEPT - timedelta(days=1)
    OrderTicket.objects.filter(pk__in=[t.pk for t in tickets]).update(created_at=long_ago)


def test_an_old_ticket_forgets_its_token_not_its_member(desk, ann, bob) -> None:
    placed = _ticket(desk, ann, 31, Outcome.PLACED, order_id="777")
    twap = _ticket(desk, ann, 32, Outcome.PLACED, strategy_id="twap-2")
    pending = _ticket(desk, bob, 33)  # its answer was lost: the order may exist
    refused = _ticket(desk, bob, 34, Outcome.REJECTED)
    recent = _ticket(desk, bob, 35, Outcome.PLACED, order_id="778")
    _recorded_long_ago(placed, twap, pending, refused)

    forgotten = tickets_forget_old(before=timezone.now() - TICKETS_KEPT)

    assert forgotten == 3
    tokens = dict(OrderTicket.objects.values_list("pk", "token"))
    assert tokens == {placed.pk: None, twap.pk: None, pending.pk: None, recent.pk: recent.token}
    refs = [
        OrderRef("777", 31),
        OrderRef.of_fill("801", 32, "strategy twap-2"),
        OrderRef("802", 33),
    ]
    assert [_owner(desk, r) for r in refs] == ["ann", "ann", "bob"]


def test_an_old_placed_tickets_client_id_is_free_again_a_pending_ones_is_not(desk, ann) -> None:
    placed = _ticket(desk, ann, 41, Outcome.PLACED, order_id="779")
    pending = _ticket(desk, ann, 42)
    _ticket(desk, ann, 43, Outcome.PLACED, order_id="780")  # recent: its token is kept
    assert client_ids_held(desk.pk, [41, 42, 43]) == {41: False, 42: True, 43: False}
    _recorded_long_ago(placed, pending)

    tickets_forget_old(before=timezone.now() - TICKETS_KEPT)

    # a placed order is named by its order id from now on; a pending one by its clientId only
    assert client_ids_held(desk.pk, [41, 42, 43]) == {42: True, 43: False}


def _fill(desk, n: int, order_id: str, client_id: int, origin: str = "") -> None:
    LedgerEntry.objects.create(
        subaccount=desk,
        kind=LedgerEntry.Kind.FILL,
        exchange_id=f"SOL_USDC:{n}:Bid",
        occurred_at=timezone.now(),
        symbol="SOL_USDC",
        side="Bid",
        quantity=Decimal(1),
        price=Decimal(150),
        order_id=order_id,
        client_id=client_id,
        origin=origin,
    )


def test_a_ledger_reader_reads_only_the_tickets_that_can_name_its_fills(desk, ann, bob) -> None:
    _ticket(desk, ann, 51, Outcome.PLACED, order_id="901")  # filled
    _ticket(desk, ann, 52, Outcome.PLACED, order_id="902")  # the parent of a leg that filled
    _ticket(desk, ann, 53, Outcome.PLACED, strategy_id="twap-3")
    _ticket(desk, bob, 54)  # pending
    _ticket(desk, bob, 55, Outcome.PLACED, order_id="905")  # never filled (cancelled)
    _fill(desk, 1, "901", 51)
    _fill(desk, 2, "912", 52, "order 902")

    every = ticket_owners(desk.pk)
    read = ticket_owners(desk.pk, fills=True)

    assert set(every.by_order) == {"901", "902", "905"}  # the sentinel: all of them by default
    assert (read.by_order, read.by_strategy) == ({"901": "ann", "902": "ann"}, {"twap-3": "ann"})
    assert read.by_client == {54: {"bob"}}
