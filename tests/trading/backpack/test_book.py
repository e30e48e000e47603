from __future__ import annotations

from decimal import Decimal

import pytest

from trading.backpack.book import BookGap, OrderBook

D = Decimal


def fresh() -> OrderBook:
    book = OrderBook("SOL_USDC")
    book.load_snapshot([("95.00", "1"), ("94.50", "2")], [("96.00", "3"), ("97.00", "4")], 100)
    return book


def test_snapshot_gives_best_prices_spread_and_top() -> None:
    book = fresh()
    assert book.best_bid() == (D("95.00"), D("1"))
    assert book.best_ask() == (D("96.00"), D("3"))
    assert book.spread() == D("1.00")
    assert book.top(1) == ([(D("95.00"), D("1"))], [(D("96.00"), D("3"))])


def test_deltas_already_in_the_snapshot_are_skipped_then_applied_in_sequence() -> None:
    book = fresh()
    assert book.apply(90, 100, [("95.00", "9")], []) is False
    assert book.apply(99, 101, [("95.50", "1.5")], [("96.00", "0")]) is True
    assert book.apply(102, 102, [("95.00", "0.000")], []) is True
    assert book.best_bid() == (D("95.50"), D("1.5"))
    assert book.best_ask() == (D("97.00"), D("4"))
    assert book.last_update_id == 102


def test_a_gap_raises_and_names_the_missing_update() -> None:
    book = fresh()
    book.apply(101, 101, [], [("96.50", "1")])
    with pytest.raises(BookGap) as info:
        book.apply(103, 104, [], [])
    assert str(info.value) == "Depth gap on SOL_USDC: expected update 102, got 103..104."
    with pytest.raises(BookGap):
        fresh().apply(105, 106, [], [])


def test_checksum_is_equal_for_equal_books_whatever_the_text_form() -> None:
    one = OrderBook("X")
    one.load_snapshot([("1.50", "2.0")], [("2", "1")], 1)
    two = OrderBook("X")
    two.load_snapshot([("1.5", "2")], [("2.00", "1.000")], 7)
    assert one.checksum() == two.checksum()
    two.apply(8, 8, [("1.4", "1")], [])
    assert one.checksum() != two.checksum()
