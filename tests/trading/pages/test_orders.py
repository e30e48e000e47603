"""Open orders, cancel, cancel-all, history and the CSV export against the still sandbox."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from accounts.models import AuditEvent
from tests.trading.pages.conftest import HX, client_for_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]


async def place(
    desk,
    index: int,
    symbol: str,
    side: str,
    order_type: str,
    quantity: str,
    price: str | None = None,
):
    async with desk.session() as session:
        return await desk.raw_client(session, index).place_order(
            symbol,
            side,
            order_type,
            quantity=Decimal(quantity),
            price=Decimal(price) if price else None,
        )


async def open_orders(desk, index: int = 0):
    async with desk.session() as session:
        return await desk.raw_client(session, index).open_orders()


async def test_the_team_page_lists_open_orders_with_cancel_buttons_for_traders(desk) -> None:
    order = await place(desk, 0, "SOL_USDC", "Bid", "Limit", "1.5", "140")
    trader = await client_for_user(desk.trader)
    viewer = await client_for_user(desk.viewer)

    trader_html = (await trader.get("/trading/orders/")).content.decode()
    viewer_html = (await viewer.get("/trading/orders/")).content.decode()

    for html in (trader_html, viewer_html):
        assert f'id="open-orders-{desk.main.pk}"' in html
        assert f'data-order-id="{order.id}"' in html
        assert "1.5" in html and "140" in html
    assert "cancel-order" in trader_html
    assert "cancel-order" not in viewer_html
    assert f'id="open-orders-{desk.other.pk}"' in trader_html  # trader views "Other desk"
    assert f'id="open-orders-{desk.other.pk}"' not in viewer_html


async def test_cancel_removes_the_order_and_is_audited(desk) -> None:
    order = await place(desk, 0, "SOL_USDC", "Bid", "Limit", "1", "140")
    client = await client_for_user(desk.trader)

    response = await client.post(
        f"/trading/subaccounts/{desk.main.pk}/orders/cancel/",
        {"order_id": order.id, "symbol": "SOL_USDC"},
        **HX,
    )

    html = response.content.decode()
    assert f"Order {order.id} in SOL_USDC: Cancelled." in html
    assert f'data-order-id="{order.id}"' not in html
    assert "No open orders." in html
    assert await open_orders(desk) == []
    event = await AuditEvent.objects.filter(action="order_cancel").afirst()
    assert event.result == "ok" and event.parameters["orderId"] == order.id


async def test_cancelling_an_order_the_exchange_does_not_know_says_so_in_sentences(desk) -> None:
    client = await client_for_user(desk.trader)

    response = await client.post(
        f"/trading/subaccounts/{desk.main.pk}/orders/cancel/",
        {"order_id": "999999", "symbol": "SOL_USDC"},
        **HX,
    )

    html = response.content.decode()
    # the exchange's words end as a sentence before what to do: "... not found. Refresh ..."
    assert "Cancel failed: No such order" in html
    assert "Order not found. Refresh the order list; the order may already be gone." in html


async def test_a_viewer_cannot_cancel(desk) -> None:
    order = await place(desk, 0, "SOL_USDC", "Bid", "Limit", "1", "140")
    client = await client_for_user(desk.viewer)

    response = await client.post(
        f"/trading/subaccounts/{desk.main.pk}/orders/cancel/",
        {"order_id": order.id, "symbol": "SOL_USDC"},
    )

    assert response.status_code == 403
    assert "Cancelling orders needs the trader role on Main desk." in response.content.decode()
    assert [o.id for o in await open_orders(desk)] == [order.id]


async def test_a_cancel_all_from_a_page_shown_before_the_role_was_lowered_is_refused(desk) -> None:
    order = await place(desk, 0, "SOL_USDC", "Bid", "Limit", "1", "140")
    client = await client_for_user(desk.viewer)

    response = await client.post(
        f"/trading/subaccounts/{desk.main.pk}/orders/cancel-all/", {"symbol": ""}, **HX
    )

    assert response.status_code == 200  # htmx swaps the message; it would not swap a 403
    assert 'id="trading-message"' in response.content.decode()
    assert "Cancelling orders needs the trader role on Main desk." in response.content.decode()
    assert [o.id for o in await open_orders(desk)] == [order.id]


async def test_a_non_member_gets_404(desk) -> None:
    client = await client_for_user(desk.outsider)

    response = await client.post(
        f"/trading/subaccounts/{desk.main.pk}/orders/cancel-all/", {"symbol": ""}
    )

    assert response.status_code == 404


async def test_cancel_all_in_one_market_leaves_the_other_markets(desk) -> None:
    await place(desk, 0, "SOL_USDC", "Bid", "Limit", "1", "140")
    await place(desk, 0, "SOL_USDC", "Bid", "Limit", "1", "141")
    kept = await place(desk, 0, "BTC_USDC", "Bid", "Limit", "0.001", "90000")
    client = await client_for_user(desk.trader)

    response = await client.post(
        f"/trading/subaccounts/{desk.main.pk}/orders/cancel-all/", {"symbol": "SOL_USDC"}, **HX
    )

    assert "Cancelled 2 orders of Main desk in SOL_USDC." in response.content.decode()
    assert [o.id for o in await open_orders(desk)] == [kept.id]


async def test_cancel_all_without_a_market_cancels_everywhere(desk) -> None:
    await place(desk, 0, "SOL_USDC", "Bid", "Limit", "1", "140")
    await place(desk, 0, "BTC_USDC", "Bid", "Limit", "0.001", "90000")
    client = await client_for_user(desk.trader)

    response = await client.post(
        f"/trading/subaccounts/{desk.main.pk}/orders/cancel-all/", {"symbol": ""}, **HX
    )

    assert "Cancelled 2 orders of Main desk." in response.content.decode()
    assert await open_orders(desk) == []
    event = await AuditEvent.objects.filter(action="orders_cancel_all").afirst()
    assert event.parameters["cancelled"] == 2


async def test_fills_csv_has_one_row_per_fill_without_exponents(desk) -> None:
    await place(desk, 1, "SOL_USDC", "Ask", "Limit", "3", "150.25")
    await place(desk, 0, "SOL_USDC", "Bid", "Market", "0.5")
    await place(desk, 0, "SOL_USDC", "Bid", "Market", "1.25")
    client = await client_for_user(desk.trader)

    response = await client.get(f"/trading/history/fills.csv?subaccount={desk.main.pk}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode()
    assert "E-" not in text and "E+" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(Decimal(r["quantity"]) for r in rows) == [Decimal("0.5"), Decimal("1.25")]
    assert {r["subaccount"] for r in rows} == {"Main desk"}
    assert {r["side"] for r in rows} == {"Bid"}
    assert {Decimal(r["price"]) for r in rows} == {Decimal("150.25")}
    assert {r["liquidity"] for r in rows} == {"taker"}


async def test_fills_show_the_price_on_the_tick_and_a_usdc_fee_to_the_cent_the_csv_exact(
    desk,
) -> None:
    await place(desk, 1, "SOL_USDC_PERP", "Ask", "Limit", "5", "158.8")
    await place(desk, 0, "SOL_USDC_PERP", "Bid", "Market", "2.5")
    client = await client_for_user(desk.trader)

    page = (await client.get(f"/trading/history/?subaccount={desk.main.pk}")).content.decode()
    response = await client.get(f"/trading/history/fills.csv?subaccount={desk.main.pk}")

    # 2.5 at 158.8 (tick 0.01), taker fee 0.05%: 0.1985 USDC, shown as the PnL page does;
    # the CSV keeps it to the last decimal, for sums that reconcile with the exchange's
    assert '<td class="num" data-num="price:SOL_USDC_PERP">158.80</td>' in page
    assert '<td class="num hide-narrow">0.20 USDC</td>' in page
    (row,) = csv.DictReader(io.StringIO(response.content.decode()))
    assert (row["price"], row["quantity"], row["fee"], row["fee_symbol"]) == (
        "158.80",
        "2.50",
        "0.1985",
        "USDC",
    )


async def test_fills_csv_of_a_subaccount_the_user_cannot_see_is_404(desk) -> None:
    client = await client_for_user(desk.viewer)

    response = await client.get(f"/trading/history/fills.csv?subaccount={desk.other.pk}")

    assert response.status_code == 404


async def test_history_pages_through_fills(desk) -> None:
    await place(desk, 1, "SOL_USDC", "Ask", "Limit", "60", "150")
    async with desk.session() as session:
        buyer = desk.raw_client(session, 0)
        for _ in range(51):
            await buyer.place_order("SOL_USDC", "Bid", "Market", quantity=Decimal("1"))
    client = await client_for_user(desk.trader)

    first = (await client.get(f"/trading/history/?subaccount={desk.main.pk}")).content.decode()
    second = (
        await client.get(f"/trading/history/?subaccount={desk.main.pk}&page=2", **HX)
    ).content.decode()

    assert first.count("<tr><td>") == 50
    assert "Older →" in first
    assert second.count("<tr><td>") == 1
    assert "Older →" not in second and "← Newer" in second
    assert "<html" not in second  # an htmx request gets only the table


async def test_order_history_lists_cancelled_orders(desk) -> None:
    order = await place(desk, 0, "SOL_USDC", "Bid", "Limit", "1", "140")
    async with desk.session() as session:
        await desk.raw_client(session, 0).cancel_order("SOL_USDC", order_id=order.id)
    client = await client_for_user(desk.viewer)

    html = (
        await client.get(f"/trading/history/?subaccount={desk.main.pk}&kind=orders")
    ).content.decode()

    assert "Cancelled" in html and "140" in html


async def test_orders_csv_lists_the_order_history(desk) -> None:
    resting = await place(desk, 0, "SOL_USDC", "Bid", "Limit", "2.5", "140.5")
    async with desk.session() as session:
        await desk.raw_client(session, 0).cancel_order("SOL_USDC", order_id=resting.id)
    client = await client_for_user(desk.viewer)

    response = await client.get(f"/trading/history/orders.csv?subaccount={desk.main.pk}")

    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert [(r["order_id"], r["status"], r["type"]) for r in rows] == [
        (resting.id, "Cancelled", "Limit")
    ]
    assert Decimal(rows[0]["price"]) == Decimal("140.5")
    assert Decimal(rows[0]["quantity"]) == Decimal("2.5")
    assert rows[0]["executed_quantity"] == "0"


async def test_one_order_reads_as_one_order_in_the_button_and_the_answer(desk) -> None:
    await place(desk, 0, "SOL_USDC", "Bid", "Limit", "1", "140")
    client = await client_for_user(desk.trader)

    page = (await client.get("/trading/orders/")).content.decode()
    response = await client.post(
        f"/trading/subaccounts/{desk.main.pk}/orders/cancel-all/", {"symbol": ""}, **HX
    )

    assert "Cancel all 1 open order of Main desk?" in page
    assert "Cancelled 1 order of Main desk." in response.content.decode()


async def test_a_market_filter_not_understood_is_said_and_kept_to_correct(desk) -> None:
    await place(desk, 1, "SOL_USDC", "Ask", "Limit", "5", "150")
    async with desk.session() as session:
        await desk.raw_client(session, 0).place_order(
            "SOL_USDC", "Bid", "Market", quantity=Decimal("1")
        )
    client = await client_for_user(desk.trader)
    bad = "/trading/history/?kind=fills&symbol=<script>alert(1)</script>"

    html = (await client.get(f"{bad}&subaccount={desk.main.pk}")).content.decode()
    table = (await client.get(f"{bad}&subaccount={desk.main.pk}", **HX)).content.decode()
    export = await client.get(
        f"/trading/history/fills.csv?subaccount={desk.main.pk}&symbol=<script>"
    )

    words = (
        "Market filter not understood: “&lt;script&gt;alert(1)&lt;/script&gt;” is not a market "
        "symbol (such as SOL_USDC or SOL_USDC_PERP). Showing fills of every market."
    )
    assert words in html and words in table
    assert 'name="symbol" value="&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert "<script>alert(1)" not in html
    assert html.count("<tr><td>") == 1  # the fill of every market, as the notice says
    assert export.status_code == 400
    assert export.content.decode() == (
        "“<script>” is not a market symbol (such as SOL_USDC or SOL_USDC_PERP)."
    )


async def test_an_unknown_kind_is_said_and_fills_are_shown(desk) -> None:
    client = await client_for_user(desk.trader)

    html = (
        await client.get(f"/trading/history/?subaccount={desk.main.pk}&kind=trades")
    ).content.decode()

    assert "Show: “trades” is not fills or orders; showing fills instead." in html
    assert "No fills." in html
