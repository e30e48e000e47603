"""The engine is deterministic given its inputs and clock: the same commands give the
same events, ids and ledger, whatever the interpreter's hash seed."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from sandbox.engine import EngineError

from .test_properties import MARKETS, fresh_engine

ROOT = Path(__file__).resolve().parents[3]


def run_session(seed: int = 11, commands: int = 400) -> str:
    """Digest of every event and the final ledger after a seeded random session."""
    rng = random.Random(seed)
    engine = fresh_engine()
    engine.keep_events = True
    for _ in range(commands):
        sub = rng.randint(1, 3)
        symbol = rng.choice([m.symbol for m in MARKETS])
        payload = {
            "symbol": symbol,
            "side": rng.choice(["Bid", "Ask"]),
            "orderType": rng.choice(["Limit", "Limit", "Market"]),
            "quantity": str(Decimal(rng.randint(1, 30)) / 10),
        }
        if payload["orderType"] == "Limit":
            payload["price"] = str(Decimal(rng.randint(196, 204)) / 2)
        if symbol.endswith("PERP") and rng.random() < 0.2:
            payload["triggerPrice"] = str(Decimal(rng.randint(196, 204)) / 2)
        try:
            engine.execute_order(sub, payload)
        except EngineError as error:
            payload["error"] = error.code
        if rng.random() < 0.1:
            engine.set_mark_price("SOL_USDC_PERP", str(Decimal(rng.randint(196, 204)) / 2))
    digest = hashlib.sha256()
    for event in engine.drain_events():
        digest.update(json.dumps(event.to_wire(), sort_keys=True).encode())
    for sub in (1, 2, 3):
        state = [engine.balances(sub), engine.positions(sub), engine.order_history(sub)]
        digest.update(json.dumps(state, sort_keys=True).encode())
    return digest.hexdigest()


def test_same_session_same_digest_under_different_hash_seeds():
    script = "from tests.sandbox.engine.test_determinism import run_session; print(run_session())"
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        digests.add(result.stdout.strip())
    assert len(digests) == 1
    assert digests == {run_session()}
