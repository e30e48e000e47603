"""Tickets of the previous release (trading 0023) come through the upgrade that lets a token
be forgotten (trading 0024) unchanged, tokens kept; once old, their tokens are forgotten and
their members stay. Going back to the previous release, a forgotten token becomes a unique
placeholder (that release has no empty token)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.migrating import old_desk, previous_release, upgrade
from trading.desk_tickets import OrderRef, ticket_owners, tickets_forget_old
from trading.models import OrderTicket
from trading.services import TICKETS_KEPT

BEFORE = [
    ("accounts", "0006_one_subaccount_per_api_key"),
    ("trading", "0023_withdrawal_cancelled_by_requester"),
]


def _token_may_be_empty() -> bool:
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, "trading_orderticket")
    return next(c.null_ok for c in columns if c.name == "token")


@pytest.fixture
def _newest_after():
    """The test goes back to the previous release: the next test finds the newest again."""
    yield
    upgrade()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_newest_after")
def test_tickets_of_the_previous_release_forget_their_tokens_and_keep_their_members():
    old = previous_release(BEFORE)
    user = old.get_model("auth", "User")
    alice, bob = user.objects.create(username="alice"), user.objects.create(username="bob")
    desk = old_desk(old)
    ticket = old.get_model("trading", "OrderTicket")
    for token, client_id, actor, outcome, order_id in (
        ("a", 5555, alice, "placed", "111"),
        ("b", 5556, bob, "rejected", ""),
        ("c", 5557, bob, "pending", ""),
    ):
        ticket.objects.create(
            token=token,
            client_id=client_id,
            subaccount=desk,
            actor=actor,
            symbol="SOL_USDC",
            outcome=outcome,
            order_id=order_id,
        )
    assert not _token_may_be_empty()  # the sentinel: 0023 keeps every token

    upgrade()

    rows = OrderTicket.objects.order_by("pk").values_list("token", "outcome", "actor__username")
    assert list(rows) == [
        ("a", "placed", "alice"),
        ("b", "rejected", "bob"),
        ("c", "pending", "bob"),
    ]
    assert _token_may_be_empty()
    OrderTicket.objects.update(created_at=timezone.now() - TICKETS_KEPT - timedelta(days=1))
    assert tickets_forget_old(before=timezone.now() - TICKETS_KEPT) == 2
    owners = ticket_owners(desk.pk)
    assert (owners.owner(OrderRef("111")), owners.owner(OrderRef("222", 5557))) == ("alice", "bob")

    old = previous_release(BEFORE)

    back = old.get_model("trading", "OrderTicket").objects.order_by("pk")
    assert list(back.values_list("order_id", "outcome")) == [("111", "placed"), ("", "pending")]
    assert [t.token for t in back] == [f"forgotten:{t.pk}" for t in back]
