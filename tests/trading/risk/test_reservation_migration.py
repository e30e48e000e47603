"""Reservations in flight when the desk is upgraded to the release that indexes them
(trading 0018) are still there and still counted by the gate's read of what is in flight."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Subaccount
from tests.migrating import old_desk, previous_release, upgrade
from trading.risk.reservations import reservations_in_flight

BEFORE = [("accounts", "0005_team_setting"), ("trading", "0017_pnl_reconciliation")]


@pytest.mark.django_db(transaction=True)
def test_reservations_of_the_previous_release_still_count_after_the_upgrade():
    old = previous_release(BEFORE)
    alice = old.get_model("auth", "User").objects.create(username="alice")
    desk = old_desk(old)
    reservation = old.get_model("trading", "RiskReservation")
    now = timezone.now()
    reservation.objects.create(  # the order is on its way to the exchange
        subaccount=desk, member=alice, symbol="SOL_USDC", buy=True, notional=Decimal("145.5")
    )
    held = reservation.objects.create(  # a TWAP's, placed long ago and running for an hour
        subaccount=desk, member=alice, symbol="SOL_USDC", buy=False, notional=Decimal("300")
    )
    reservation.objects.filter(pk=held.pk).update(
        created_at=now - timedelta(minutes=10),
        placed_at=now - timedelta(minutes=10),
        strategy_id="twap-1",
        until=now + timedelta(hours=1),
    )

    upgrade()

    in_flight = reservations_in_flight(Subaccount.objects.get(), now - timedelta(seconds=5))
    assert sorted(in_flight) == [
        ("SOL_USDC", False, Decimal("300"), alice.pk, 1),
        ("SOL_USDC", True, Decimal("145.5"), alice.pk, 1),
    ]
