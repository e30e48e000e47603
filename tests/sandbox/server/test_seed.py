"""Seed files: the default world, key derivation, and malformed files named by line."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from sandbox.seed import DEFAULT_SEED_PATH, SeedError, load_seed, parse_seed

ROOT = Path(__file__).resolve().parents[3]

MINIMAL = {
    "keySeed": "team-x",
    "assets": [{"symbol": "USDC", "tokens": [{"blockchain": "Solana", "withdrawalFee": "1"}]}],
    "markets": [],
    "subaccounts": [{"id": 5, "label": "Five", "balances": {"USDC": "10"}}],
}


def test_default_seed_has_rich_subaccounts_and_six_markets() -> None:
    seed = load_seed()
    assert len(seed.subaccounts) >= 3
    assert {m.symbol for m in seed.markets} == {
        "SOL_USDC", "BTC_USDC", "ETH_USDC", "SOL_USDC_PERP", "BTC_USDC_PERP", "ETH_USDC_PERP",
    }  # fmt: skip
    for sub in seed.subaccounts:
        assert sub.balances["USDC"] >= Decimal("100000")
        assert {"SOL", "BTC", "ETH"} <= set(sub.balances)
        assert sub.withdrawal_addresses["Solana"]


def test_keys_derive_from_the_seed_string() -> None:
    seed = parse_seed(json.dumps(MINIMAL))
    (sub,) = seed.subaccounts
    expected_seed = hashlib.sha256(b"team-x:5").digest()
    assert base64.b64decode(sub.api_secret) == expected_seed
    public = bytes(SigningKey(expected_seed).verify_key)
    assert seed.keys() == [
        {
            "subaccount": 5,
            "label": "Five",
            "api_key": base64.b64encode(public).decode(),
            "api_secret": base64.b64encode(expected_seed).decode(),
        }
    ]


def test_an_explicit_api_secret_wins() -> None:
    secret = base64.b64encode(bytes(range(32))).decode()
    data = dict(MINIMAL, subaccounts=[{"id": 1, "apiSecret": secret}])
    assert parse_seed(json.dumps(data)).keys()[0]["api_secret"] == secret


@pytest.mark.parametrize(
    ("text", "source", "expected"),
    [
        ('{\n  "assets": [\n  ,]\n}', "bad.json", "bad.json: line 3: invalid JSON"),
        (
            "assets: []\nmarkets: []\nsubaccounts:\n  - id: 1\n    balances: {BTC: '1'}\n",
            "bad.yml",
            "bad.yml: line 5: subaccounts.0.balances.BTC: unknown asset 'BTC'",
        ),
        (
            json.dumps(
                dict(MINIMAL, subaccounts=[{"id": 1, "balances": {"USDC": "ten"}}]), indent=1
            ),
            "bad.json",
            "subaccounts.0.balances.USDC: 'ten' is not a decimal",
        ),
        ("assets: [\n", "bad.yaml", "bad.yaml: line 2: invalid syntax"),
        (
            "assets:\n  - symbol: USDC\n    tokens:\n      - blockchain: Narnia\n",
            "chain.yml",
            "chain.yml: line 4: assets.0.tokens.0.blockchain: unknown blockchain 'Narnia'",
        ),
    ],
)
def test_malformed_seed_names_line_and_reason(text: str, source: str, expected: str) -> None:
    with pytest.raises(SeedError) as refused:
        parse_seed(text, source=source)
    assert expected in str(refused.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "assets:\n  - symbol: USDC\n    tokens:\n      - blockchain: Solana\n"
            "        withdrawalFee: 0.5\n",
            "seed.yml: line 5: assets.0.tokens.0.withdrawalFee: write the decimal as a quoted"
            " string ('0.5'), not a number",
        ),
        (
            "assets:\n  - symbol: USDC\n    tokens:\n      - blockchain: Solana\n"
            "        withdrawalFee: '1e-3'\n",
            "seed.yml: line 5: assets.0.tokens.0.withdrawalFee: '1e-3' has an exponent: write"
            " the number out in full",
        ),
        (
            "assets:\n  - symbol: USDC\n    tokens:\n      - blockchain: Solana\n"
            "        withdrawalFee: '\u0661'\n",
            "seed.yml: line 5: assets.0.tokens.0.withdrawalFee: '\u0661' has a digit other"
            " than 0-9",
        ),
        (
            "assets:\n  - symbol: USDC\n    tokens:\n      - blockchain: Solana\n"
            "        withdrawalFee: '-1'\n",
            "seed.yml: line 5: assets.0.tokens.0.withdrawalFee: '-1' is negative",
        ),
        (
            "assets:\n  - symbol: USDC\n    tokens:\n      - blockchain: Solana\n"
            "        withdrawalFee: ''\n",
            "seed.yml: line 5: assets.0.tokens.0.withdrawalFee: a value is required",
        ),
    ],
)
def test_a_bad_seed_number_names_the_field_and_why(text: str, expected: str) -> None:
    with pytest.raises(SeedError) as refused:
        parse_seed(text, source="seed.yml")
    assert str(refused.value) == expected


def test_cli_stops_on_a_bad_seed_with_exit_2_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "seed.json"
    bad.write_text('{\n "assets": [],\n "markets": [{"symbol": 1}],\n "subaccounts": []\n}\n')
    run = subprocess.run(
        [sys.executable, "-m", "sandbox", "--seed", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert "line 3" in run.stderr and "markets.0" in run.stderr


def test_cli_dump_keys_prints_the_keys_and_exits() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "sandbox", "--dump-keys"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 0
    keys = json.loads(run.stdout)
    assert keys == load_seed(DEFAULT_SEED_PATH).keys()
    for key in keys:
        seed_bytes = base64.b64decode(key["api_secret"])
        assert base64.b64encode(bytes(SigningKey(seed_bytes).verify_key)).decode() == key["api_key"]


def test_a_perp_may_carry_a_negative_funding_rate_and_the_default_seed_charges_one() -> None:
    perp = {
        "symbol": "SOL_USDC_PERP",
        "baseSymbol": "SOL",
        "quoteSymbol": "USDC",
        "marketType": "PERP",
        "tickSize": "0.01",
        "stepSize": "0.01",
        "initialPrice": "150",
        "fundingRate": "-0.0002",
    }
    sol = {"symbol": "SOL", "tokens": []}
    data = dict(MINIMAL, assets=[*MINIMAL["assets"], sol], markets=[perp])

    (market,) = parse_seed(json.dumps(data)).markets

    assert market.funding_rate == Decimal("-0.0002")
    perps = [m for m in load_seed().markets if m.market_type == "PERP"]
    assert {m.funding_rate for m in perps} == {Decimal("0.0001")}
