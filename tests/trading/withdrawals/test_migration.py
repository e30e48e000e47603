"""A database made by the release before the withdrawals moved house keeps its address book,
policy, limits and requests: the tables stay, only Django's idea of their app changes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from tests.migrating import old_desk, previous_release, upgrade
from trading.withdrawals.models import (
    WithdrawalAddress,
    WithdrawalLimit,
    WithdrawalPolicy,
    WithdrawalRequest,
)

BEFORE = [("accounts", "0003_subaccount_confirm_guard"), ("trading", "0010_kill_progress")]


@pytest.mark.django_db(transaction=True)
def test_withdrawal_rows_of_the_previous_release_are_read_through_the_new_models():
    old = previous_release(BEFORE)
    alice = old.get_model("auth", "User").objects.create(username="alice")
    bob = old.get_model("auth", "User").objects.create(username="bob")
    desk = old_desk(old)
    old.get_model("accounts", "WithdrawalPolicy").objects.create(
        subaccount=desk, second_admin_required=False
    )
    old.get_model("accounts", "WithdrawalLimit").objects.create(
        subaccount=desk, asset="USDC", daily_limit=Decimal("1000.5")
    )
    entry = old.get_model("accounts", "WithdrawalAddress").objects.create(
        subaccount=desk,
        blockchain="Solana",
        address="So1ana",
        label="treasury",
        confirmed_2fa_exempt=True,
        added_by=alice,
        approved_by=bob,
    )
    old.get_model("trading", "WithdrawalRequest").objects.create(
        subaccount=desk,
        address_entry=entry,
        asset="USDC",
        blockchain="Solana",
        address="So1ana",
        quantity=Decimal("12.5"),
        client_id="c-1",
        requested_by=alice,
    )

    upgrade()

    address = WithdrawalAddress.objects.get()
    assert (address.subaccount.name, address.label, address.added_by.username) == (
        "Old desk",
        "treasury",
        "alice",
    )
    assert address.usable
    assert WithdrawalPolicy.objects.get().second_admin_required is False
    assert WithdrawalLimit.objects.get().daily_limit == Decimal("1000.5")
    request = WithdrawalRequest.objects.get()
    assert (request.address_entry, request.quantity) == (address, Decimal("12.5"))
    assert address.subaccount.withdrawal_addresses.get() == address


@pytest.mark.django_db(transaction=True)
def test_the_moved_models_keep_their_content_types_and_so_their_permissions():
    previous_release(BEFORE)
    old_type = ContentType.objects.get_or_create(app_label="accounts", model="withdrawaladdress")[0]

    upgrade()

    ContentType.objects.clear_cache()
    assert ContentType.objects.get_for_model(WithdrawalAddress).pk == old_type.pk


@pytest.mark.django_db(transaction=True)
def test_a_request_its_requester_rejected_becomes_cancelled():
    old = previous_release(
        [("accounts", "0005_team_setting"), ("trading", "0022_withdrawal_cancelled")]
    )
    users = old.get_model("auth", "User").objects
    alice, bob = users.create(username="alice"), users.create(username="bob")
    desk = old_desk(old)
    requests = old.get_model("trading", "WithdrawalRequest").objects
    for client_id, decided_by in (("by-herself", alice), ("by-bob", bob)):
        requests.create(
            subaccount=desk,
            asset="USDC",
            blockchain="Solana",
            address="So1ana",
            quantity=Decimal("12.5"),
            client_id=client_id,
            requested_by=alice,
            decided_by=decided_by,
            status="rejected",
        )

    upgrade()

    statuses = dict(WithdrawalRequest.objects.values_list("client_id", "status"))
    assert statuses == {"by-herself": "cancelled", "by-bob": "rejected"}
