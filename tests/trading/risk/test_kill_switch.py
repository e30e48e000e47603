"""The kill switch on the sandbox: reduce-only, every order cancelled, every position closed,
reconciled with the exchange; a wrong code changes nothing; lifting it lets orders pass."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.errors import ServiceError
from accounts.fresh_code import WRONG_CODE
from accounts.models import AuditEvent, Role
from tests.accounts.conftest import fresh_totp, verified_client
from tests.factories import MembershipFactory, TOTPDeviceFactory, UserFactory
from tests.trading.pages.conftest import client_for_user
from tests.trading.risk.test_gate_on_the_sandbox import open_long, open_orders_on_exchange, send
from trading.models import RiskLimit
from trading.risk.kill import kill_switch_engage, kill_switch_engage_all, kill_switch_release

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]

PERP = "SOL_USDC_PERP"


@pytest.fixture
def admin(desk):
    user = UserFactory(username="ada")
    MembershipFactory(user=user, subaccount=desk.main, role=Role.ADMIN)
    TOTPDeviceFactory(user=user)
    return user


code = sync_to_async(lambda user: fresh_totp(TOTPDevice.objects.get(user=user)))


async def positions_left(desk) -> list[str]:
    async with desk.session() as session:
        positions = await desk.raw_client(session, 0).positions()
    return [p.symbol for p in positions if p.net_quantity != 0]


async def test_the_kill_switch_cancels_closes_reconciles_and_blocks_new_risk(desk, admin) -> None:
    await open_long(desk)
    assert 'data-result="ok"' in await send(desk, n=1)  # a resting bid on SOL_USDC
    assert await positions_left(desk) == [PERP]

    report = await kill_switch_engage(
        actor=admin, subaccount=desk.main, reason="runaway bot", otp_code=await code(admin)
    )

    assert (report.cancelled, report.closed, report.clean) == (1, [PERP], True)
    assert report.summary() == (
        "Kill switch: 1 order cancelled, positions closed: SOL_USDC_PERP. Nothing is left "
        "open; the subaccount is reduce-only."
    )
    assert await open_orders_on_exchange(desk) == []
    assert await positions_left(desk) == []
    html = await send(desk, n=2)
    assert (
        "Order refused: reduce-only mode (kill switch: runaway bot): only orders that reduce "
        "risk." in html
    )
    actions = [e.action async for e in AuditEvent.objects.order_by("id")]
    assert actions.index("kill_switch_engage") < actions.index("orders_cancel_all")
    assert actions.index("position_close") < actions.index("kill_switch_result")


async def test_a_wrong_code_changes_nothing(desk, admin) -> None:
    assert 'data-result="ok"' in await send(desk, n=1)

    with pytest.raises(ServiceError):
        await kill_switch_engage(
            actor=admin, subaccount=desk.main, reason="test", otp_code="000000"
        )

    assert len(await open_orders_on_exchange(desk)) == 1
    assert not await RiskLimit.objects.filter(reduce_only=True).aexists()
    event = await AuditEvent.objects.aget(action="kill_switch_engage")
    assert event.result == "denied"


async def test_lifting_the_kill_switch_lets_orders_pass_again(desk, admin) -> None:
    await kill_switch_engage(
        actor=admin, subaccount=desk.main, reason="drill", otp_code=await code(admin)
    )
    assert "reduce-only mode (kill switch: drill)" in await send(desk, n=1)

    await kill_switch_release(actor=admin, subaccount=desk.main, otp_code=await code(admin))

    assert 'data-result="ok"' in await send(desk, n=2)
    row = await RiskLimit.objects.aget(subaccount=desk.main, member=None)
    assert row.max_leverage == Decimal("3")  # the defaults, never "no limit" by accident


def test_the_risk_page_button_pulls_the_switch(desk, admin) -> None:
    client = verified_client(admin)
    otp = fresh_totp(TOTPDevice.objects.get(user=admin))

    response = client.post(
        f"/trading/subaccounts/{desk.main.pk}/risk/kill/",
        {"reason": "drill", "otp_code": otp},
        follow=True,
    )

    html = response.content.decode()
    assert "Kill switch: 0 orders cancelled, positions closed: none. Nothing is left open" in html
    assert '<li data-who="Whole subaccount">Whole subaccount: kill switch: drill</li>' in html


async def test_one_action_stops_every_subaccount_the_admin_runs(desk, admin) -> None:
    await sync_to_async(MembershipFactory)(user=admin, subaccount=desk.other, role=Role.ADMIN)
    assert 'data-result="ok"' in await send(desk, n=1)
    async with desk.session() as session:
        await desk.raw_client(session, 1).place_order(
            "SOL_USDC", "Ask", "Limit", price=Decimal("170"), quantity=Decimal("1")
        )

    results = await kill_switch_engage_all(
        actor=admin, reason="market halt", otp_code=await code(admin)
    )

    assert [(s.name, r.cancelled, r.clean) for s, r in results] == [
        ("Main desk", 1, True),
        ("Other desk", 1, True),
    ]
    assert await open_orders_on_exchange(desk) == []
    async with desk.session() as session:
        assert await desk.raw_client(session, 1).open_orders() == []
    reduce_only = RiskLimit.objects.filter(reduce_only=True, member=None)
    assert await reduce_only.acount() == 2


def test_the_stop_everything_button_reports_each_subaccount(desk, admin) -> None:
    client = verified_client(admin)
    otp = fresh_totp(TOTPDevice.objects.get(user=admin))
    page = f"/trading/subaccounts/{desk.main.pk}/risk/"

    response = client.post(
        "/trading/risk/kill-all/",
        {"reason": "drill", "otp_code": otp, "next": page},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == page
    assert "Main desk: Kill switch: 0 orders cancelled" in response.content.decode()


async def test_the_progress_partial_shows_each_subaccount_of_the_pull(desk, admin) -> None:
    await sync_to_async(MembershipFactory)(user=admin, subaccount=desk.other, role=Role.ADMIN)
    run = "a" * 32
    await kill_switch_engage_all(actor=admin, reason="drill", otp_code=await code(admin), run=run)
    client = await client_for_user(admin)

    response = await client.get(
        f"/trading/risk/kill-progress/{run}/", headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    done = "Kill switch: 0 orders cancelled, positions closed: none. Nothing is left open"
    assert (
        f'<li data-subaccount="Main desk" data-done="yes" data-clean="yes">Main desk: {done}'
        in html
    )
    assert (
        f'<li data-subaccount="Other desk" data-done="yes" data-clean="yes">Other desk: {done}'
        in html
    )
    assert "hx-get" not in html  # done: it stops asking
    other = await client_for_user(desk.outsider)
    assert (
        "Main desk" not in (await other.get(f"/trading/risk/kill-progress/{run}/")).content.decode()
    )


async def test_cancel_only_cancels_every_order_and_keeps_the_positions_open(desk, admin) -> None:
    await open_long(desk)
    assert 'data-result="ok"' in await send(desk, n=1)  # a resting bid on SOL_USDC

    report = await kill_switch_engage(
        actor=admin,
        subaccount=desk.main,
        reason="pause the bots",
        otp_code=await code(admin),
        close_positions=False,
    )

    assert (report.cancelled, report.closed, report.positions_left, report.clean) == (
        1,
        [],
        [PERP],
        True,
    )
    assert report.summary() == (
        "Kill switch (cancel orders only): 1 order cancelled. No open order is left; positions "
        "kept open: SOL_USDC_PERP; the subaccount is reduce-only."
    )
    assert await open_orders_on_exchange(desk) == []
    assert await positions_left(desk) == [PERP]
    assert "reduce-only mode (kill switch: pause the bots)" in await send(desk, n=2)
    engage = await AuditEvent.objects.aget(action="kill_switch_engage")
    result = await AuditEvent.objects.aget(action="kill_switch_result")
    assert engage.parameters["what"] == result.parameters["what"] == "cancel orders only"
    assert not await AuditEvent.objects.filter(action="position_close").aexists()


async def test_stop_everything_cancel_only_keeps_every_position(desk, admin) -> None:
    await sync_to_async(MembershipFactory)(user=admin, subaccount=desk.other, role=Role.ADMIN)
    await open_long(desk)  # main long, other (the maker) short
    run = "c" * 32

    results = await kill_switch_engage_all(
        actor=admin,
        reason="market halt",
        otp_code=await code(admin),
        run=run,
        close_positions=False,
    )

    assert [(s.name, r.closed, r.positions_left, r.clean) for s, r in results] == [
        ("Main desk", [], [PERP], True),
        ("Other desk", [], [PERP], True),
    ]
    assert await positions_left(desk) == [PERP]
    async with desk.session() as session:
        assert await desk.raw_client(session, 1).open_orders() == []
    client = await client_for_user(admin)
    html = (await client.get(f"/trading/risk/kill-progress/{run}/")).content.decode()
    assert "Main desk: Kill switch (cancel orders only): 0 orders cancelled." in html
    assert "Other desk: Kill switch (cancel orders only): 2 orders cancelled." in html


def test_the_risk_page_offers_both_choices_and_the_button_cancels_only(desk, admin) -> None:
    client = verified_client(admin)
    page = client.get(f"/trading/subaccounts/{desk.main.pk}/risk/").content.decode()
    assert 'name="what" value="close" id="id_kill_what_close" checked' in page
    assert 'name="what" value="cancel" id="id_kill_what_cancel"' in page
    otp = fresh_totp(TOTPDevice.objects.get(user=admin))

    response = client.post(
        f"/trading/subaccounts/{desk.main.pk}/risk/kill/",
        {"reason": "drill", "otp_code": otp, "what": "cancel"},
        follow=True,
    )

    html = response.content.decode()
    assert "Kill switch (cancel orders only): 0 orders cancelled. No open order is left" in html
    event = AuditEvent.objects.get(action="kill_switch_result")
    assert event.parameters["what"] == "cancel orders only"


def test_an_unknown_choice_is_refused_with_a_message_and_changes_nothing(desk, admin) -> None:
    client = verified_client(admin)
    otp = fresh_totp(TOTPDevice.objects.get(user=admin))

    response = client.post(
        f"/trading/subaccounts/{desk.main.pk}/risk/kill/",
        {"reason": "drill", "otp_code": otp, "what": "everything"},
        follow=True,
    )

    assert response.status_code == 200
    assert "Choose what the kill switch does: cancel only, or cancel and close." in (
        response.content.decode()
    )
    assert not RiskLimit.objects.filter(reduce_only=True).exists()


def kill_form(html: str) -> tuple[str, str]:
    """The kill switch form's choice (the checked radio) and its reason, as rendered."""
    form = html.split('id="kill-switch"', 1)[1].split("</form>", 1)[0]
    checked = [
        w for w in ("close", "cancel") if f'value="{w}" id="id_kill_what_{w}" checked' in form
    ]
    reason = form.split('id="id_kill_reason"', 1)[1].split(">", 1)[0]
    return ",".join(checked), reason


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"what": "cancel", "reason": ""}, "Say why the kill switch is pulled."),
        ({"what": "cancel", "reason": "runaway bot", "otp_code": "000000"}, WRONG_CODE),
    ],
)
def test_a_refused_pull_keeps_the_choice_and_the_reason(desk, admin, posted, message) -> None:
    client = verified_client(admin)
    otp = fresh_totp(TOTPDevice.objects.get(user=admin))

    response = client.post(
        f"/trading/subaccounts/{desk.main.pk}/risk/kill/",
        {"otp_code": otp, **posted},
        headers={"HX-Request": "true"},
    )
    page = client.get(response.headers["HX-Redirect"]).content.decode()

    assert message in page
    assert kill_form(page) == ("cancel", f' maxlength="150" value="{posted["reason"]}"')
    assert not RiskLimit.objects.filter(reduce_only=True).exists()
    again = client.get(f"/trading/subaccounts/{desk.main.pk}/risk/").content.decode()
    assert kill_form(again) == ("close", ' maxlength="150" value=""')  # kept once, not forever


def test_a_refused_stop_everything_keeps_the_choice_and_the_reason(desk, admin) -> None:
    client = verified_client(admin)
    page = f"/trading/subaccounts/{desk.main.pk}/risk/"

    response = client.post(
        "/trading/risk/kill-all/",
        {"what": "cancel", "reason": "market halt", "otp_code": "000000", "next": page},
        follow=True,
    )

    assert kill_form(response.content.decode()) == (
        "cancel",
        ' maxlength="150" value="market halt"',
    )
    assert not RiskLimit.objects.filter(reduce_only=True).exists()


async def test_lifting_a_switch_that_is_not_engaged_says_so_and_audits_nothing(desk, admin) -> None:
    await kill_switch_engage(
        actor=admin, subaccount=desk.main, reason="drill", otp_code=await code(admin)
    )
    await kill_switch_release(actor=admin, subaccount=desk.main, otp_code=await code(admin))

    with pytest.raises(ServiceError) as refused:
        await kill_switch_release(actor=admin, subaccount=desk.main, otp_code=await code(admin))

    assert refused.value.message == "The kill switch is not engaged on Main desk."
    assert await AuditEvent.objects.filter(action="kill_switch_release").acount() == 1


def test_the_lift_button_shows_only_while_the_switch_is_engaged(desk, admin) -> None:
    client = verified_client(admin)
    page = f"/trading/subaccounts/{desk.main.pk}/risk/"
    lift = 'name="release" value="1">Lift the kill switch</button>'
    assert lift not in client.get(page).content.decode()
    otp = fresh_totp(TOTPDevice.objects.get(user=admin))
    client.post(f"{page}kill/", {"reason": "drill", "otp_code": otp, "what": "cancel"})

    assert lift in client.get(page).content.decode()

    otp = fresh_totp(TOTPDevice.objects.get(user=admin))
    html = client.post(f"{page}kill/", {"otp_code": otp, "release": "1"}, follow=True)
    assert "Kill switch lifted: the subaccount may trade again." in html.content.decode()
    assert lift not in client.get(page).content.decode()
    otp = fresh_totp(TOTPDevice.objects.get(user=admin))
    again = client.post(f"{page}kill/", {"otp_code": otp, "release": "1"}, follow=True)
    assert "The kill switch is not engaged on Main desk." in again.content.decode()
    assert AuditEvent.objects.filter(action="kill_switch_release").count() == 1
