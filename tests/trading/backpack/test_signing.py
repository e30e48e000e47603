from __future__ import annotations

import base64
import json
from decimal import Decimal

import httpx
import pytest
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from tests.spec_files import VECTORS_PATH
from trading.backpack.errors import AuthenticationError
from trading.backpack.signing import (
    BackpackAuth,
    Credentials,
    clean_params,
    signing_key_from_seed,
    signing_string,
    ws_signature,
)

VECTORS = json.loads(VECTORS_PATH.read_text())["vectors"]


def _instruction(vector: dict) -> str:
    return vector["instruction"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_every_vector_signs_byte_for_byte(vector: dict) -> None:
    creds = Credentials(api_key=vector["public_key_b64"], api_secret=vector["seed_b64"])
    params = (
        vector["params"] if isinstance(vector["params"], list) else clean_params(vector["params"])
    )
    if isinstance(params, list):
        params = [clean_params(p) for p in params]
    text = signing_string(_instruction(vector), params, vector["timestamp"], vector["window"])
    headers = creds.headers(_instruction(vector), params, vector["timestamp"], vector["window"])
    assert text == vector["signing_string"]
    if "headers" in vector:
        assert headers == vector["headers"]
    else:
        message = {
            "method": "SUBSCRIBE",
            "params": vector["ws_message"]["params"],
            "signature": ws_signature(creds, vector["timestamp"], vector["window"]),
        }
        assert message == vector["ws_message"]
    if vector["body"] is not None:
        sent = json.dumps(params, separators=(",", ":"))
        assert json.loads(sent) == json.loads(vector["body"])
    if vector.get("query_string"):
        assert "&".join(f"{k}={params[k]}" for k in sorted(params)) == vector["query_string"]


def test_decimals_and_booleans_are_encoded_per_value() -> None:
    params = clean_params(
        {"price": Decimal("1E+2"), "quantity": Decimal("0.10"), "postOnly": True, "x": None}
    )
    assert signing_string("orderExecute", params, 1, 5000) == (
        "instruction=orderExecute&postOnly=true&price=100&quantity=0.10&timestamp=1&window=5000"
    )
    assert params == {"price": "100", "quantity": "0.10", "postOnly": True}


def test_float_money_is_refused() -> None:
    with pytest.raises(TypeError, match="money must be Decimal"):
        signing_string("orderExecute", {"price": 1.5}, 1, 5000)


def test_private_request_without_instruction_fails_closed() -> None:
    creds = Credentials(api_key="k", api_secret=base64.b64encode(bytes(32)).decode())
    with pytest.raises(ValueError, match="no signing instruction"):
        BackpackAuth(creds, None, {})


def test_secret_callable_is_called_at_signing_time_only() -> None:
    calls = []
    seed = VECTORS[0]["seed_b64"]

    def secret() -> str:
        calls.append(1)
        return seed

    creds = Credentials(api_key=VECTORS[0]["public_key_b64"], api_secret=secret)
    assert calls == []
    auth = BackpackAuth(creds, "balanceQuery", {}, clock=lambda: 1750000000001)
    request = httpx.Request("GET", "http://x/api/v1/capital")
    next(auth.auth_flow(request))
    assert calls == [1]
    assert request.headers["X-Signature"] == VECTORS[0]["signature_b64"]
    assert request.headers["X-Timestamp"] == "1750000000001"
    assert "secret" not in repr(creds) and seed not in repr(creds)


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        ("not base64!!", "The API secret is not valid base64."),
        (
            base64.b64encode(b"short").decode(),
            "The API secret decodes to 5 bytes; an ED25519 seed has 32.",
        ),
    ],
)
def test_bad_secret_gets_a_clear_message(seed: str, message: str) -> None:
    with pytest.raises(AuthenticationError) as info:
        signing_key_from_seed(seed)
    assert str(info.value) == message


@pytest.mark.parametrize("vector", [v for v in VECTORS if "headers" in v], ids=lambda v: v["name"])
def test_a_secret_opened_at_signing_time_signs_byte_for_byte(vector: dict) -> None:
    # A callable secret signs with "seed + API key" (no public key derived per signature).
    creds = Credentials(api_key=vector["public_key_b64"], api_secret=lambda: vector["seed_b64"])
    params = vector["params"]
    if isinstance(params, list):
        params = [clean_params(p) for p in params]
    else:
        params = clean_params(params)
    headers = creds.headers(_instruction(vector), params, vector["timestamp"], vector["window"])
    assert headers == vector["headers"]


def test_a_secret_of_another_key_signs_nothing_the_api_key_verifies() -> None:
    other = SigningKey.generate()
    creds = Credentials(
        api_key=VECTORS[0]["public_key_b64"],
        api_secret=lambda: base64.b64encode(bytes(other)).decode(),
    )
    headers = creds.headers("balanceQuery", {}, 1, 5000)
    verify_key = VerifyKey(base64.b64decode(VECTORS[0]["public_key_b64"]))
    with pytest.raises(BadSignatureError):
        verify_key.verify(
            b"instruction=balanceQuery&timestamp=1&window=5000",
            base64.b64decode(headers["X-Signature"]),
        )


def test_a_bad_secret_opened_at_signing_time_gets_the_clear_message() -> None:
    creds = Credentials(api_key=VECTORS[0]["public_key_b64"], api_secret=lambda: "not base64!!")
    with pytest.raises(AuthenticationError) as info:
        creds.headers("balanceQuery", {}, 1, 5000)
    assert str(info.value) == "The API secret is not valid base64."
