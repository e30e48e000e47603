"""Every page the authorisation matrix knows, rendered with seeded data, shows each number by
the one formatting rule (`trading.formatting`): no exponent, no stored trailing zeros, prices
and quantities with no more decimals than the seeded markets' tick and step, USDC values with
thousands separators and two decimals, ratios as percentages.

The seed is real: subaccounts on sandbox keys with a perpetual position, a resting order, a
fill and balances on the exchange; stored settings (confirmation notional, withdrawal limit,
low-balance threshold) come back from the database with all their stored decimals.
"""

from __future__ import annotations

import asyncio
import html as html_lib
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.test import Client

from accounts.models import Role
from tests.accounts import test_authorization_matrix as matrix
from tests.accounts.authz import World
from tests.accounts.conftest import verified_client
from tests.factories import (
    LowBalanceThresholdFactory,
    MembershipFactory,
    SubaccountFactory,
    SuperuserFactory,
    UserFactory,
    WithdrawalAddressFactory,
    WithdrawalLimitFactory,
    WithdrawalPolicyFactory,
)
from trading import formatting, selectors
from trading.backpack import Credentials, ExchangeSession

PERP = "SOL_USDC_PERP"
SPOT = "SOL_USDC"

# The Django admin renders model fields with Django's own widgets: not the desk's pages.
NOT_DESK_PAGES = ("admin:",)
checked: dict[str, int] = {}  # how many marked numbers of each kind the check has seen

NUMBER = re.compile(r"(?<![\w.#/-])[-+]?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?%?(?![\w/])")
USDC_VALUE = re.compile(r"^-?\d{1,3}(?:,\d{3})*\.\d{2}$")
HIDDEN = re.compile(r"<(script|style|svg|code)\b.*?</\1>|<!--.*?-->", re.S | re.I)
SHOWN_ATTRIBUTE = re.compile(r'\b(?:title|aria-label|placeholder|value)="([^"]*)"')
TAG = re.compile(r"<[^>]+>")
USDC_MARKED = re.compile(r'<[^>]*\bdata-value-usdc="[^"]*"[^>]*>([^<]*)<', re.S)
# A number whose kind the page states: data-num="price:SOL_USDC", "quantity:SOL_USDC",
# "usdc" or "percent".
KIND_MARKED = re.compile(r'<[^>]*\bdata-num="(\w+)(?::([\w-]+))?"[^>]*>([^<]*)<', re.S)
PERCENT = re.compile(r"^[-+]?\d+(?:\.\d+)?%$")
NOT_A_NUMBER = ("", formatting.DASH, "market")


async def _seed_exchange(sandbox) -> list:
    """Key 1 makes a market on the perp; key 0 buys 2 at market (a position and a fill) and
    rests a spot bid (an open order). Returns the markets the exchange lists."""
    session = ExchangeSession(api_url=sandbox.api_url, ws_url=sandbox.ws_url)
    async with session:

        def client(index: int):
            key = sandbox.keys[index]
            secret = key["api_secret"]
            return session.client(
                Credentials(api_key=key["api_key"], api_secret=lambda: secret), label=f"k{index}"
            )

        maker, taker = client(1), client(0)
        await maker.place_order(PERP, "Ask", "Limit", price=Decimal("150"), quantity=Decimal("5"))
        await maker.place_order(PERP, "Bid", "Limit", price=Decimal("149"), quantity=Decimal("5"))
        await taker.place_order(PERP, "Bid", "Market", quantity=Decimal("2"))
        await taker.place_order(
            SPOT, "Bid", "Limit", price=Decimal("120.5"), quantity=Decimal("1.25")
        )
        return await taker.markets()


def _world(sandbox) -> World:
    keys = sandbox.keys
    main = SubaccountFactory(
        name="Main desk",
        keypair=(keys[0]["api_key"], keys[0]["api_secret"]),
        order_confirm_notional=Decimal("1000"),
    )
    other = SubaccountFactory(
        name="Other desk", keypair=(keys[1]["api_key"], keys[1]["api_secret"])
    )
    users = {name: UserFactory(username=name) for name in ("viewer", "trader", "admin")}
    memberships = {
        "viewer": MembershipFactory(user=users["viewer"], subaccount=main, role=Role.VIEWER),
        "trader": MembershipFactory(user=users["trader"], subaccount=main, role=Role.TRADER),
    }
    users["superuser"] = SuperuserFactory(username="root")
    memberships["admin"] = MembershipFactory(
        user=users["superuser"], subaccount=main, role=Role.ADMIN
    )
    MembershipFactory(user=users["superuser"], subaccount=other, role=Role.ADMIN)
    WithdrawalPolicyFactory(subaccount=main)
    WithdrawalLimitFactory(subaccount=main, asset="USDC", daily_limit=Decimal("1000"))
    LowBalanceThresholdFactory(subaccount=main, asset="USDC", minimum=Decimal("100"))
    address = WithdrawalAddressFactory(subaccount=main, added_by=users["superuser"])
    return World(main, other, users, memberships, address)


def shown_numbers(page: str) -> list[str]:
    """Every number a person can read on `page`: text, tooltips, labels and input values."""
    page = HIDDEN.sub(" ", page)
    texts = [TAG.sub(" ", page)] + SHOWN_ATTRIBUTE.findall(page)
    found = []
    for text in texts:
        found += NUMBER.findall(html_lib.unescape(text))
    return found


def _decimals(number: str) -> int:
    digits = number.rstrip("%")
    return len(digits.split(".", 1)[1]) if "." in digits else 0


def _kind_broken(kind: str, symbol: str | None, text: str, markets: dict) -> str:
    """Why `text`, marked as a number of `kind` (of market `symbol`), breaks its rule."""
    if text in NOT_A_NUMBER:
        return ""
    if kind == "usdc":
        return "" if USDC_VALUE.match(text) else f"{text}: a USDC value, grouped, two decimals"
    if kind == "percent":
        return "" if PERCENT.match(text) else f"{text}: a ratio shown as a percentage"
    market = markets.get(symbol)
    if kind not in ("price", "quantity") or market is None:
        return f"{text}: unknown kind {kind}:{symbol}"
    if kind == "price":
        places = formatting.price_places(market)
    else:
        places = formatting.quantity_places(market)
    if not re.fullmatch(r"-?\d+(?:\.\d+)?", text) or _decimals(text) != places:
        return f"{text}: a {kind} of {symbol} has {places} decimals"
    return ""


def broken_rules(page: str, most_decimals: int, markets: dict | None = None) -> list[str]:
    """The numbers on `page` that no rule allows, each with the rule it breaks."""
    markets = markets or {}
    wrong = []
    for kind, symbol, text in KIND_MARKED.findall(page):
        checked[kind] = checked.get(kind, 0) + 1
        if problem := _kind_broken(kind, symbol or None, html_lib.unescape(text).strip(), markets):
            wrong.append(problem)
    for number in shown_numbers(page):
        if "e" in number.lower():
            wrong.append(f"{number}: exponent notation")
        elif _decimals(number) > most_decimals:
            wrong.append(f"{number}: more than {most_decimals} decimals")
        elif number.endswith("%") and _decimals(number) not in (1, 2, 3, 4):
            wrong.append(f"{number}: a percentage without its places")
    for text in USDC_MARKED.findall(page):
        value = text.strip().removesuffix("USDC").strip()
        if value and not USDC_VALUE.match(value):
            wrong.append(f"{value}: a USDC value is grouped with two decimals")
    return wrong


def test_the_check_catches_stored_digits_exponents_and_ungrouped_usdc():
    page = (
        '<p>limit 1000.000000000000000000</p><input value="1E+3">'
        '<strong data-value-usdc="12345.6">12345.60 USDC</strong>'
        "<td>150.10</td><td>+1.23%</td><script>var x = 1.0000000001;</script>"
    )

    assert broken_rules(page, 5) == [
        "1000.000000000000000000: more than 5 decimals",
        "1E+3: exponent notation",
        "12345.60: a USDC value is grouped with two decimals",
    ]


def test_the_check_holds_each_marked_number_to_its_kind():
    market = SimpleNamespace(tick_size=Decimal("0.01"), step_size=Decimal("0.001"))
    page = (
        '<td data-num="price:SOL_USDC">120.5</td><td data-num="price:SOL_USDC">120.50</td>'
        '<td data-num="quantity:SOL_USDC">1.25</td><td data-num="usdc">1234.00</td>'
        '<dd data-num="percent">0.0125</dd><dd data-num="percent">1.25%</dd>'
        '<td data-num="price:SOL_USDC">–</td>'
    )

    assert broken_rules(page, 5, {"SOL_USDC": market}) == [
        "120.5: a price of SOL_USDC has 2 decimals",
        "1.25: a quantity of SOL_USDC has 3 decimals",
        "1234.00: a USDC value, grouped, two decimals",
        "0.0125: a ratio shown as a percentage",
    ]


def _get_pages(world: World) -> dict[str, str]:
    client: Client = verified_client(world.users["superuser"])
    pages = {}
    for key in matrix.url_keys():
        rule = matrix.RULES.get(key)
        if rule is None or rule.method != "get" or key.startswith(NOT_DESK_PAGES):
            continue
        url = matrix.url_for(key, rule, world)
        response = client.get(url, rule.data(world) if rule.data else {})
        if response.status_code != 200 or not response["Content-Type"].startswith("text/"):
            continue
        body = b"".join(response.streaming_content) if response.streaming else response.content
        pages[url] = body.decode()
    return pages


@pytest.mark.django_db(transaction=True)
def test_every_page_shows_every_number_by_its_rule(sandbox, settings):
    settings.BACKPACK_API_URL = sandbox.api_url
    settings.BACKPACK_WS_URL = sandbox.ws_url
    settings.DASHBOARD_RELAY = "off"
    selectors.cache_clear()
    markets = asyncio.run(_seed_exchange(sandbox))
    world = _world(sandbox)
    most = max(
        [4]  # percentages (funding rate) and the ticket's fee estimate
        + [formatting.price_places(m) for m in markets]
        + [formatting.quantity_places(m) for m in markets]
    )
    by_symbol = {m.symbol: m for m in markets}
    checked.clear()

    pages = _get_pages(world)

    assert len(pages) >= 15, sorted(pages)
    wrong = {
        url: broken
        for url, page in pages.items()
        if (broken := broken_rules(page, most, by_symbol))
    }
    assert not wrong, wrong
    # the seed put every kind of number on some page (the check above did not pass on nothing)
    assert {"price", "quantity", "usdc", "percent"} <= set(checked), checked
