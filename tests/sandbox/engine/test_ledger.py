"""Ledger: deposits, withdrawals, balances shape, max withdrawal, account summary."""

from __future__ import annotations

from decimal import Decimal

from .conftest import available, limit


def test_deposit_credits_and_is_recorded(engine):
    record = engine.deposit(4, "SOL", "1.5", blockchain="Solana", transaction_hash="abc")

    assert record["status"] == "confirmed"
    assert record["quantity"] == "1.5"
    assert engine.balances(4) == {"SOL": {"available": "1.5", "locked": "0", "staked": "0"}}
    assert engine.deposits(4)[0]["transactionHash"] == "abc"


def test_withdrawal_debits_quantity_plus_fee_and_confirms(engine):
    record = engine.request_withdrawal(
        1, symbol="USDC", quantity="100", blockchain="Solana", address="dest", client_id="w-1"
    )

    assert (record["status"], record["fee"], record["quantity"]) == ("pending", "1", "100")
    assert available(engine, 1, "USDC") == Decimal("9899")
    assert engine.balance(-1, "USDC")[0] == Decimal("1")  # the fee goes to the exchange

    confirmed = engine.confirm_withdrawal(record["id"])

    assert confirmed["status"] == "confirmed"
    assert engine.withdrawals(1)[0]["status"] == "confirmed"
    assert engine.withdrawals(1, client_id="w-1")[0]["id"] == record["id"]


def test_locked_funds_cannot_be_withdrawn(engine):
    limit(engine, 1, "Bid", "20", "400")  # locks 8,000 USDC

    assert engine.max_withdrawal_quantity(1, symbol="USDC")["maxWithdrawalQuantity"] == "2000"


def test_open_perp_exposure_limits_withdrawal(engine):
    limit(engine, 2, "Ask", "100", "50", symbol="SOL_USDC_PERP")
    limit(engine, 1, "Bid", "100", "50", symbol="SOL_USDC_PERP")  # 5,000 notional

    most = Decimal(engine.max_withdrawal_quantity(1, symbol="USDC")["maxWithdrawalQuantity"])

    # equity 9,997.5 minus initial margin 5,000 x (0.1 + 0.0005)
    assert most == Decimal("9997.5") - Decimal("502.5")


def test_balances_shape_matches_capital_endpoint(engine):
    limit(engine, 1, "Ask", "30", "10")

    assert engine.balances(1) == {
        "SOL": {"available": "90", "locked": "10", "staked": "0"},
        "USDC": {"available": "10000", "locked": "0", "staked": "0"},
    }


def test_unknown_subaccount_reads_empty(engine):
    assert engine.balances(99) == {}
    assert engine.open_orders(99) == []
    assert engine.positions(99) == []
    assert engine.collateral(99)["netEquity"] == "0"


def test_account_summary_reports_fees_in_bps_and_order_counts(engine):
    limit(engine, 1, "Bid", "20", "1")
    engine.execute_order(
        1,
        {
            "symbol": "SOL_USDC_PERP",
            "side": "Bid",
            "orderType": "Market",
            "quantity": "1",
            "triggerPrice": "150",
        },
    )

    summary = engine.account(1)

    assert Decimal(summary["spotMakerFee"]) == 10
    assert Decimal(summary["futuresTakerFee"]) == 5
    assert (summary["limitOrders"], summary["triggerOrders"]) == (1, 1)
    assert summary["leverageLimit"] == "10"


def test_max_order_quantity_on_spot(engine):
    bid = engine.max_order_quantity(1, symbol="SOL_USDC", side="Bid", price="30")
    ask = engine.max_order_quantity(1, symbol="SOL_USDC", side="Ask")

    assert bid["maxOrderQuantity"] == "333.33"
    assert ask["maxOrderQuantity"] == "100.00"


def test_history_is_capped_to_the_newest_records(engine, monkeypatch):
    from sandbox.engine import ledger

    monkeypatch.setattr(ledger, "HISTORY_LIMIT", 3)
    engine.deposit(7, "SOL", "1")
    ids = [limit(engine, 7, "Ask", "30", "0.01")["id"] for _ in range(5)]

    assert [o["id"] for o in engine.order_history(7)] == ids[:1:-1]
    assert len(engine.open_orders(7)) == 5  # open orders are never dropped
