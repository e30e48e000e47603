"""How many rows of each account history the sandbox keeps: 20,000 unless started with
``--history-limit`` (a bench backfilling 100,000 fills asks for more)."""

from __future__ import annotations

import pytest

from sandbox.__main__ import main
from sandbox.engine import ledger


def test_accounts_made_after_the_limit_is_set_keep_that_many_rows() -> None:
    before = ledger.HISTORY_LIMIT
    try:
        ledger.history_limit_set(100_001)
        account = ledger.Account(7)
    finally:
        ledger.history_limit_set(before)

    assert before == 20_000
    assert account.fills.maxlen == account.funding_payments.maxlen == 100_001
    assert ledger.Account(8).fills.maxlen == 20_000


def test_a_limit_below_one_row_is_refused_with_its_name(capsys) -> None:
    assert main(["--history-limit", "0"]) == 2
    assert capsys.readouterr().err == "sandbox: --history-limit must be >= 1\n"
    with pytest.raises(ValueError, match="the history limit must be at least 1"):
        ledger.history_limit_set(0)
