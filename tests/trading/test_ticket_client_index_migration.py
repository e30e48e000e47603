"""Tickets of the previous release (trading 0019) come through the upgrade that indexes them
by clientId (trading 0021) unchanged, and name their orders by the rule of this release: a
placed ticket by its order id, a pending one by its clientId, a refused one never."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.migrating import old_desk, previous_release, upgrade
from trading.desk_tickets import OrderRef, ticket_owners
from trading.models import OrderTicket

BEFORE = [("accounts", "0005_team_setting"), ("trading", "0019_order_origins")]


def _indexes() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, "trading_orderticket")
    return {name: c["columns"] for name, c in found.items() if c["index"]}


@pytest.mark.django_db(transaction=True)
def test_tickets_of_the_previous_release_keep_their_rows_and_name_orders_by_the_new_rule():
    old = previous_release(BEFORE)
    user = old.get_model("auth", "User")
    alice, bob = user.objects.create(username="alice"), user.objects.create(username="bob")
    desk = old_desk(old)
    ticket = old.get_model("trading", "OrderTicket")
    for token, actor, outcome, order_id in (
        ("a", alice, "placed", "111"),
        ("b", bob, "rejected", ""),
        ("c", bob, "pending", ""),
    ):
        ticket.objects.create(
            token=token,
            client_id=5555,
            subaccount=desk,
            actor=actor,
            symbol="SOL_USDC",
            outcome=outcome,
            order_id=order_id,
        )
    assert "ticket_sub_client" not in _indexes()  # the sentinel: 0019 has no such index

    upgrade()

    rows = OrderTicket.objects.order_by("token").values_list(
        "token", "client_id", "outcome", "order_id", "actor__username"
    )
    assert list(rows) == [
        ("a", 5555, "placed", "111", "alice"),
        ("b", 5555, "rejected", "", "bob"),
        ("c", 5555, "pending", "", "bob"),
    ]
    assert _indexes()["ticket_sub_client"] == ["subaccount_id", "client_id"]
    owners = ticket_owners(desk.pk)
    assert owners.owner(OrderRef("111", 5555)) == "alice"
    assert owners.owner(OrderRef("222", 5555)) == "bob"  # an order whose answer is not in
