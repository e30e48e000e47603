"""The sandbox's signature check against the independent signing vectors.

With the clock set to each vector's timestamp, every vector is accepted, and the same
request with any single byte of its signature, key, a parameter or the timestamp changed
is refused.
"""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import pytest

from sandbox.server.auth import Authenticator, signing_string
from sandbox.server.errors import ApiError
from tests.spec_files import VECTORS_PATH

VECTORS = json.loads(VECTORS_PATH.read_text())["vectors"]
REST_VECTORS = [v for v in VECTORS if v["method"] != "WS"]
WS_VECTORS = [v for v in VECTORS if v["method"] == "WS"]
SUBACCOUNT = 7


def _received_params(vector: dict[str, Any]) -> Any:
    """The parameters as the server reads them off the wire (body JSON or query)."""
    if vector["body"] is not None:
        return json.loads(vector["body"], parse_float=Decimal)
    return dict(parse_qsl(vector["query_string"] or "", keep_blank_values=True))


def _authenticator(vector: dict[str, Any], *extra_keys: str) -> Authenticator:
    keys = {vector["public_key_b64"]: SUBACCOUNT}
    keys.update({key: SUBACCOUNT for key in extra_keys})
    return Authenticator(keys, clock_ms=lambda: vector["timestamp"])


def _check(
    vector: dict[str, Any],
    auth: Authenticator,
    *,
    key: str | None = None,
    signature: str | None = None,
    timestamp: str | None = None,
    params: Any = ...,
) -> int:
    headers = vector.get("headers") or {}
    return auth.check(
        key or vector["public_key_b64"],
        signature or vector["signature_b64"],
        timestamp or str(vector["timestamp"]),
        headers.get("X-Window", str(vector["window"])),
        vector["instruction"],
        _received_params(vector) if params is ... else params,
    )


def _flip_byte(b64: str, index: int) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def _mutations(params: Any) -> list[Any]:
    """Every single-byte change of a parameter name or value (one change per copy)."""
    blocks = params if isinstance(params, list) else [params]
    variants = []
    for block_index, block in enumerate(blocks):
        for name, value in block.items():
            for pos in range(len(name)):
                changed = name[:pos] + chr(ord(name[pos]) ^ 0x01) + name[pos + 1 :]
                new_block = {(changed if k == name else k): v for k, v in block.items()}
                variants.append((block_index, new_block))
            if isinstance(value, bool):
                variants.append((block_index, {**block, name: not value}))
                continue
            text = str(value)
            for pos in range(len(text)):
                changed = text[:pos] + chr(ord(text[pos]) ^ 0x01) + text[pos + 1 :]
                variants.append((block_index, {**block, name: changed}))
    result = []
    for block_index, new_block in variants:
        copy = list(blocks)
        copy[block_index] = new_block
        result.append(copy if isinstance(params, list) else copy[0])
    return result


@pytest.mark.parametrize("vector", REST_VECTORS, ids=[v["name"] for v in REST_VECTORS])
def test_vector_is_accepted_and_signs_the_documented_string(vector: dict[str, Any]) -> None:
    params = _received_params(vector)
    text = signing_string(vector["instruction"], params, vector["timestamp"], vector["window"])
    assert text == vector["signing_string"]
    assert _check(vector, _authenticator(vector)) == SUBACCOUNT


@pytest.mark.parametrize("vector", WS_VECTORS, ids=[v["name"] for v in WS_VECTORS])
def test_ws_subscribe_vector_is_accepted(vector: dict[str, Any]) -> None:
    auth = _authenticator(vector)
    key, signature, timestamp, window = vector["ws_message"]["signature"]
    assert auth.check(key, signature, timestamp, window, "subscribe", None) == SUBACCOUNT


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_any_changed_signature_byte_is_refused(vector: dict[str, Any]) -> None:
    auth = _authenticator(vector)
    for index in range(64):
        with pytest.raises(ApiError) as refused:
            _check(vector, auth, signature=_flip_byte(vector["signature_b64"], index))
        assert (refused.value.code, refused.value.message) == (
            "INVALID_SIGNATURE",
            "Invalid signature",
        )


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_any_changed_key_byte_is_refused(vector: dict[str, Any]) -> None:
    mutated_keys = [_flip_byte(vector["public_key_b64"], i) for i in range(32)]
    registered = _authenticator(vector, *mutated_keys)
    unregistered = _authenticator(vector)
    for key in mutated_keys:
        with pytest.raises(ApiError) as refused:
            _check(vector, registered, key=key)
        assert refused.value.code == "INVALID_SIGNATURE"
        with pytest.raises(ApiError) as unknown:
            _check(vector, unregistered, key=key)
        assert unknown.value.code == "UNAUTHORIZED"


@pytest.mark.parametrize("vector", REST_VECTORS, ids=[v["name"] for v in REST_VECTORS])
def test_any_changed_parameter_byte_is_refused(vector: dict[str, Any]) -> None:
    auth = _authenticator(vector)
    variants = _mutations(_received_params(vector))
    for params in variants:
        with pytest.raises(ApiError) as refused:
            _check(vector, auth, params=params)
        assert refused.value.message == "Invalid signature"
    added = {"extra": "1"}
    if not isinstance(_received_params(vector), list):
        with pytest.raises(ApiError):
            _check(vector, auth, params={**_received_params(vector), **added})


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_any_changed_timestamp_byte_is_refused(vector: dict[str, Any]) -> None:
    auth = _authenticator(vector)
    text = str(vector["timestamp"])
    for pos in range(len(text)):
        changed = text[:pos] + chr(ord(text[pos]) ^ 0x01) + text[pos + 1 :]
        with pytest.raises(ApiError) as refused:
            _check(vector, auth, timestamp=changed)
        assert refused.value.message in (
            "Invalid signature",
            "Request has expired",
            "Request timestamp is in the future",
            "Invalid X-Timestamp Header",
        )


def test_request_outside_its_window_has_expired() -> None:
    vector = REST_VECTORS[0]
    late = Authenticator({vector["public_key_b64"]: 1}, clock_ms=lambda: vector["timestamp"] + 5001)
    with pytest.raises(ApiError) as refused:
        _check(vector, late)
    assert (refused.value.code, refused.value.message) == (
        "UNAUTHORIZED",
        "Request has expired",
    )


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"X-Signature": "x", "X-Timestamp": "1"}, "Missing X-API-Key Header"),
        ({"X-API-Key": "k", "X-Timestamp": "1"}, "Missing X-Signature Header"),
        (
            {"X-API-Key": "not base64!", "X-Signature": "s", "X-Timestamp": "1"},
            "Invalid X-API-Key Header",
        ),
    ],
)
def test_missing_or_malformed_headers_are_named(headers: dict[str, str], message: str) -> None:
    auth = Authenticator({}, clock_ms=lambda: 1)
    with pytest.raises(ApiError) as refused:
        auth.authenticate(headers, "balanceQuery", None)
    assert refused.value.message == message


def test_window_above_60000_is_refused() -> None:
    vector = REST_VECTORS[0]
    auth = _authenticator(vector)
    headers = dict(vector["headers"], **{"X-Window": "60001"})
    with pytest.raises(ApiError) as refused:
        auth.authenticate(headers, vector["instruction"], None)
    assert refused.value.message == "Invalid X-Window Header"


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("X-Window", ""),  # present but empty: refused, not read as the default
        ("X-Window", "\u0665\u0660\u0660\u0660"),  # Arabic-Indic 5000, which int() reads
        ("X-Window", "\u00b2"),  # "²".isdigit() is True, int("²") raises
        ("X-Window", "5e3"),
        ("X-Window", " 5000"),
        ("X-Window", "-5000"),
        ("X-Timestamp", "\uff11" * 13),  # fullwidth digits
        ("X-Timestamp", "\u00b2"),
        ("X-Timestamp", "1.75e12"),
    ],
)
def test_timestamp_and_window_are_ascii_digits_only(header: str, value: str) -> None:
    vector = REST_VECTORS[0]
    headers = dict(vector["headers"], **{header: value})
    with pytest.raises(ApiError) as refused:
        _authenticator(vector).authenticate(headers, vector["instruction"], None)
    assert (refused.value.status, refused.value.code, refused.value.message) == (
        401,
        "UNAUTHORIZED",
        f"Invalid {header} Header",
    )


def test_an_absent_window_is_the_default_5000() -> None:
    vector = REST_VECTORS[0]  # signed with window=5000
    headers = {k: v for k, v in vector["headers"].items() if k != "X-Window"}
    assert _authenticator(vector).authenticate(headers, vector["instruction"], None) == SUBACCOUNT
