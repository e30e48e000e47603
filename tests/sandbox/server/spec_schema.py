"""Contract check: validate a sandbox answer against the spec's response schema.

``assert_matches_spec(method, path, status, body)`` finds the schema for (method, path,
status) in the exchange's API description (``tests/spec/backpack-openapi.yml``;
loaded once, ``$ref`` resolved through the document's ``components``) and validates the
body with jsonschema, plus formats:
``decimal`` (plain digits, never exponent notation), ``naive-date-time``, unsigned ints.
Answers on paths the spec does not list (and statuses a route does not document, like a
rate-limit 429) must still be an ``ApiErrorResponse``.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import jsonschema
import yaml

from tests.spec_files import SPEC_PATH

DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
NAIVE_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?$")

FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("decimal")
def _is_decimal(value: object) -> bool:
    return not isinstance(value, str) or bool(DECIMAL.match(value))


@FORMATS.checks("naive-date-time")
def _is_naive_date_time(value: object) -> bool:
    return not isinstance(value, str) or bool(NAIVE_DATE_TIME.match(value))


for _name in ("uint8", "uint16", "uint32", "uint64"):
    FORMATS.checks(_name)(lambda value: not isinstance(value, int) or value >= 0)


@functools.cache
def spec() -> dict[str, Any]:
    """The OpenAPI document (parsed once)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(SPEC_PATH.read_text(), Loader=loader)


def _validator(schema: dict[str, Any]) -> jsonschema.Validator:
    root = {**schema, "components": spec()["components"]}
    return jsonschema.Draft7Validator(root, format_checker=FORMATS)


@functools.cache
def _error_validator() -> jsonschema.Validator:
    return _validator({"$ref": "#/components/schemas/ApiErrorResponse"})


@functools.cache
def _response_validator(method: str, path: str, status: str) -> jsonschema.Validator | None:
    operation = spec()["paths"][path][method.lower()]
    answer = operation["responses"][status]
    content = answer.get("content")
    if not content:
        return None
    schema = next(iter(content.values()))["schema"]
    return _validator(schema)


def documented(method: str, path: str, status: int) -> bool:
    """True when the spec documents this status for this route."""
    operation = spec()["paths"].get(path, {}).get(method.lower())
    return bool(operation) and str(status) in operation["responses"]


def assert_matches_spec(method: str, path: str, status: int, body: bytes | str) -> Any:
    """Validate one answer; returns the parsed body. Raises AssertionError on a mismatch."""
    text = body.decode() if isinstance(body, bytes) else body
    operation = spec()["paths"].get(path, {}).get(method.lower())
    if operation is None or str(status) not in operation["responses"]:
        assert status >= 400, f"{method} {path} answered {status}, which the spec does not list"
        data = json.loads(text)
        _raise_first(_error_validator(), data, method, path, status)
        return data
    validator = _response_validator(method, path, str(status))
    if validator is None:
        assert text == "", f"{method} {path} {status} must have no body"
        return None
    schema_type = validator.schema.get("type")
    if schema_type == "string" and "$ref" not in validator.schema:
        return text
    data = json.loads(text)
    _raise_first(validator, data, method, path, status)
    return data


def _raise_first(
    validator: jsonschema.Validator, data: Any, method: str, path: str, status: int
) -> None:
    error = next(iter(validator.iter_errors(data)), None)
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path)
        raise AssertionError(f"{method} {path} {status}: at {where or '<root>'}: {error.message}")
