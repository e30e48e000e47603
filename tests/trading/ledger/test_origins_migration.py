"""Tickets and ledger fills of the previous release (trading 0018) come through the upgrade
that records what made an exchange-made order (trading 0019) unchanged: each fill still counts
for the member whose ticket sent it, and nothing old is given an origin it did not have."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from tests.migrating import old_desk, previous_release, upgrade
from trading.desk_tickets import OrderRef
from trading.ledger.checkpoints import members_of
from trading.models import OrderTicket
from trading.models.ledger import LedgerEntry

BEFORE = [("accounts", "0005_team_setting"), ("trading", "0018_reservation_indexes")]


@pytest.mark.django_db(transaction=True)
def test_tickets_and_fills_of_the_previous_release_keep_their_member():
    old = previous_release(BEFORE)
    alice = old.get_model("auth", "User").objects.create(username="alice")
    desk = old_desk(old)
    old.get_model("trading", "OrderTicket").objects.create(
        token="ticket:old",
        client_id=42,
        subaccount=desk,
        actor=alice,
        symbol="SOL_USDC",
        outcome="placed",
        order_id="111",
    )
    entry = old.get_model("trading", "LedgerEntry")
    for exchange_id, client_id in (("SOL_USDC:1:Bid", 42), ("SOL_USDC:2:Bid", None)):
        entry.objects.create(
            subaccount=desk,
            kind="fill",
            exchange_id=exchange_id,
            occurred_at=timezone.now(),
            symbol="SOL_USDC",
            side="Bid",
            quantity=Decimal("1"),
            price=Decimal("150"),
            order_id="111",
            client_id=client_id,
        )

    upgrade()

    ticket = OrderTicket.objects.get()
    assert (ticket.client_id, ticket.order_id, ticket.strategy_id) == (42, "111", "")
    fills = LedgerEntry.objects.order_by("exchange_id").values_list("client_id", "origin")
    assert list(fills) == [(42, ""), (None, "")]
    members = members_of(desk.pk)
    assert members.owner(OrderRef.of_fill("111", 42, "")) == "alice"
    assert members.owner(OrderRef.of_fill("111", None, "")) == "alice"  # by its order id
