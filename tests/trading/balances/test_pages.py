"""The balances page over HTTP: the frame at once, blocks and totals as separate requests."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from asgiref.sync import sync_to_async
from django.contrib.messages import get_messages
from django.test import AsyncClient, Client
from django_otp import DEVICE_ID_SESSION_KEY
from hypothesis import HealthCheck, given, settings

from accounts.exchange_assets import forget_asset_names
from accounts.models import AuditEvent, LowBalanceThreshold, Role
from tests.dashboard.test_number_fields import PLAIN, TYPED
from tests.factories import MembershipFactory, SubaccountFactory, TOTPDeviceFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


async def signed_in(user) -> AsyncClient:
    client = AsyncClient()
    await client.aforce_login(user)
    return client


async def test_the_frame_lists_only_the_members_subaccounts_as_loading_blocks(exchange, desk):
    desk_a, desk_b = await desk(1), await desk(2)
    viewer = await sync_to_async(UserFactory)()
    await sync_to_async(MembershipFactory)(user=viewer, subaccount=desk_a, role=Role.VIEWER)
    client = await signed_in(viewer)

    page = (await client.get("/trading/balances/")).content.decode()

    assert f'id="balances-{desk_a.pk}"' in page
    assert f'hx-get="/trading/balances/{desk_a.pk}/"' in page
    assert 'hx-get="/trading/balances/totals/"' in page
    assert f'id="balances-{desk_b.pk}"' not in page
    assert "Desk B" not in page
    assert "Low-balance thresholds" not in page  # viewers do not edit them


async def test_an_inactive_subaccount_is_named_but_neither_read_nor_counted(exchange, desk):
    desk_a = await desk(1)
    parked = await sync_to_async(SubaccountFactory)(name="Parked desk", is_active=False)
    viewer = await sync_to_async(UserFactory)()
    for subaccount in (desk_a, parked):
        await sync_to_async(MembershipFactory)(user=viewer, subaccount=subaccount, role=Role.VIEWER)
    client = await signed_in(viewer)

    page = (await client.get("/trading/balances/")).content.decode()
    block = await client.get(f"/trading/balances/{parked.pk}/")

    assert f'id="balances-{desk_a.pk}"' in page
    assert f'id="balances-{parked.pk}"' not in page
    assert "neither shown nor counted in the totals: Parked desk." in page
    assert block.status_code == 404


async def test_a_block_of_another_subaccount_is_not_found(exchange, desk):
    desk_a, desk_b = await desk(1), await desk(2)
    viewer = await sync_to_async(UserFactory)()
    await sync_to_async(MembershipFactory)(user=viewer, subaccount=desk_a, role=Role.VIEWER)
    client = await signed_in(viewer)

    mine = await client.get(f"/trading/balances/{desk_a.pk}/")
    theirs = await client.get(f"/trading/balances/{desk_b.pk}/")

    assert mine.status_code == 200
    assert f'<section id="balances-{desk_a.pk}"' in mine.content.decode()
    assert 'data-value-usdc="1000000"' in mine.content.decode()
    assert theirs.status_code == 404


async def test_totals_name_the_subaccount_they_exclude(exchange, desk):
    boss = await sync_to_async(UserFactory)(is_superuser=True)
    await desk(1)
    await sync_to_async(SubaccountFactory)(name="Old key")
    client = await signed_in(boss)

    html = (await client.get("/trading/balances/totals/")).content.decode()

    assert "Totals exclude 1 subaccount whose balances could not be read" in html
    assert "<strong>Old key</strong>" in html
    assert 'class="team-value" data-value-usdc="1000000"' in html
    # Blocks and totals are separate reads: the page says their values may not add up exactly.
    assert "block values its holdings at the prices of its own read" in html


async def test_signed_out_visitors_are_sent_to_sign_in(exchange, desk):
    desk_a = await desk(1)

    block = await AsyncClient().get(
        f"/trading/balances/{desk_a.pk}/", headers={"HX-Request": "true"}
    )
    page = await AsyncClient().get("/trading/balances/")

    assert block.headers["HX-Redirect"] == "/accounts/login/"
    assert page.status_code == 302


def admin_client(user) -> Client:
    client = Client()
    device = TOTPDeviceFactory(user=user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def test_an_admin_sets_thresholds_and_they_are_audited(exchange_urls):
    sub = SubaccountFactory(name="Desk A")
    admin = UserFactory()
    MembershipFactory(user=admin, subaccount=sub, role=Role.ADMIN)
    client = admin_client(admin)
    url = f"/trading/balances/{sub.pk}/thresholds/"

    answer = client.post(url, {"asset_0": "usdc", "minimum_0": "2500.5", "asset_1": "SOL"})

    assert answer.status_code == 302
    saved = {t.asset: t.minimum for t in LowBalanceThreshold.objects.filter(subaccount=sub)}
    assert saved == {"USDC": D("2500.5")}
    assert AuditEvent.objects.filter(action="low_balance_thresholds_set").count() == 1


def test_bad_threshold_rows_are_explained_where_they_were_typed(exchange_urls):
    sub = SubaccountFactory(name="Desk A")
    admin = UserFactory()
    MembershipFactory(user=admin, subaccount=sub, role=Role.ADMIN)
    client = admin_client(admin)
    url = f"/trading/balances/{sub.pk}/thresholds/"

    html = client.post(
        url,
        {
            "asset_0": "USDC",
            "minimum_0": "lots",
            "asset_1": "USDC",
            "minimum_1": "5",
            "asset_2": "",
            "minimum_2": "-1",
        },
    ).content.decode()

    assert "&#x27;lots&#x27; is not a number." in html
    assert "USDC is already on row 1." in html
    assert "Name the asset this minimum is for." in html
    assert not LowBalanceThreshold.objects.filter(subaccount=sub).exists()


def threshold_post(data: dict[str, str]) -> tuple[object, str]:
    sub = SubaccountFactory(name="Desk A")
    admin = UserFactory()
    MembershipFactory(user=admin, subaccount=sub, role=Role.ADMIN)
    answer = admin_client(admin).post(f"/trading/balances/{sub.pk}/thresholds/", data)
    return answer, answer.content.decode()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1e3", "&#x27;1e3&#x27; has an exponent; write the number out in full"),
        (
            "1,000",
            "&#x27;1,000&#x27; has a comma; write no thousands separators and use a point "
            "for decimals, like 1234.5.",
        ),
        ("١٠٠", "&#x27;١٠٠&#x27; has a digit that is not 0-9; type the number with plain digits."),
        ("NaN", "&#x27;NaN&#x27; is not a number."),
        ("-5", "&#x27;-5&#x27; is negative; this amount cannot be below zero."),
        (
            "1" * 19,
            "&#x27;1111111111111111111&#x27; is too large: at most 18 digits before the "
            "decimal point.",
        ),
    ],
)
def test_a_minimum_that_is_not_a_plain_number_is_refused_not_misread(exchange_urls, typed, message):
    answer, html = threshold_post({"asset_0": "USDC", "minimum_0": typed})

    assert answer.status_code == 200
    assert message in html
    assert not LowBalanceThreshold.objects.exists()


def test_an_asset_the_exchange_does_not_list_is_refused(exchange_urls):
    answer, html = threshold_post({"asset_0": "DOGE", "minimum_0": "5", "asset_1": "SOL"})

    assert answer.status_code == 200
    assert "The exchange has no asset DOGE." in html
    assert not LowBalanceThreshold.objects.exists()


def test_when_the_exchange_cannot_list_assets_the_minimums_are_saved_with_a_warning(settings):
    settings.BACKPACK_API_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    forget_asset_names()

    answer, _html = threshold_post({"asset_0": "USDC", "minimum_0": "10"})

    assert answer.status_code == 302
    shown = [str(m) for m in get_messages(answer.wsgi_request)]
    assert shown[1].startswith("The asset names were not checked against the exchange: ")
    assert LowBalanceThreshold.objects.get().minimum == D("10")


def test_a_trader_cannot_change_thresholds():
    sub = SubaccountFactory(name="Desk A")
    trader = UserFactory()
    MembershipFactory(user=trader, subaccount=sub, role=Role.TRADER)
    client = admin_client(trader)

    answer = client.post(
        f"/trading/balances/{sub.pk}/thresholds/", {"asset_0": "USDC", "minimum_0": "1"}
    )

    assert answer.status_code == 403
    assert not LowBalanceThreshold.objects.filter(subaccount=sub).exists()


def test_a_user_without_subaccounts_is_told_how_to_get_one():
    client = Client()
    client.force_login(UserFactory())

    html = client.get("/trading/balances/").content.decode()

    assert "You are not a member of any active subaccount yet." in html
    assert "balances-totals" not in html


def test_the_thresholds_form_starts_from_the_saved_minimums():
    sub = SubaccountFactory(name="Desk A")
    LowBalanceThreshold.objects.create(subaccount=sub, asset="USDC", minimum=D("2500.5"))
    admin = UserFactory()
    MembershipFactory(user=admin, subaccount=sub, role=Role.ADMIN)

    html = admin_client(admin).get(f"/trading/balances/{sub.pk}/thresholds/").content.decode()

    assert 'name="asset_0" value="USDC"' in html
    assert 'name="minimum_0" value="2500.5"' in html
    assert 'name="asset_3"' in html  # three empty rows to add more


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(typed=TYPED)
def test_whatever_is_typed_as_a_minimum_is_stored_exactly_or_refused(exchange_urls, typed):
    sub = SubaccountFactory()
    admin = UserFactory()
    MembershipFactory(user=admin, subaccount=sub, role=Role.ADMIN)

    answer = admin_client(admin).post(
        f"/trading/balances/{sub.pk}/thresholds/", {"asset_0": "USDC", "minimum_0": typed}
    )

    stored = list(LowBalanceThreshold.objects.filter(subaccount=sub))
    text = typed.strip()
    if answer.status_code == 302 and not text:
        assert stored == []  # a row without a minimum removes the threshold
    elif answer.status_code == 302:
        assert PLAIN.fullmatch(text) and [t.minimum for t in stored] == [D(text)]
    else:
        assert answer.status_code == 200 and 'class="errorlist' in answer.content.decode()
        assert stored == []
