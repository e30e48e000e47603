"""Which outside services this test run may use, and how to reach them.

Locally a test that needs PostgreSQL, Redis or Chromium skips with the reason when the
service is absent. With CI=true nothing may skip: `require` fails the test instead.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

CHROMIUM_PATH = Path("/usr/lib/chromium/chromium")
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def mode() -> str:
    """'scaled' when the run uses PostgreSQL and Redis, else 'embedded'."""
    return (
        "scaled" if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL") else "embedded"
    )


@cache
def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def postgres_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def redis_url() -> str:
    return os.environ.get("REDIS_URL") or os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL)


def postgres_available() -> bool:
    return _reachable(postgres_url(), 5432)


def redis_available() -> bool:
    return _reachable(redis_url(), 6379)


def chromium_available() -> bool:
    return CHROMIUM_PATH.exists()


def require(available: bool, reason: str) -> None:
    """Skip with `reason` locally; under CI a missing service is a failure."""
    if available:
        return
    if in_ci():
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def postgres_database_create(
    base: str, prefix: str, *, template: str | None = None
) -> tuple[str, str]:
    """(name, URL) of a new database on `base`'s server, named `prefix` and a random suffix;
    empty, or a copy of the database `template`."""
    import psycopg

    name = f"{prefix}_{secrets.token_hex(4)}"
    copied = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copied}')
    return name, urlunsplit(urlsplit(base)._replace(path=f"/{name}"))


def postgres_database_drop(base: str, name: str) -> None:
    """Drop the database `name` on `base`'s server, whoever is still connected."""
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_postgres_database(prefix: str, *, template: str | None = None) -> Iterator[str]:
    """The URL of a new PostgreSQL database named `prefix` and a random suffix (empty, or a
    copy of the database `template`), dropped afterwards: a test's dashboards of their own,
    apart from the test database."""
    require(postgres_available(), "PostgreSQL is not reachable")
    name, url = postgres_database_create(postgres_url(), prefix, template=template)
    try:
        yield url
    finally:
        postgres_database_drop(postgres_url(), name)


def output_dir() -> Path:
    """Where this run keeps screenshots and other artefacts (git-ignored)."""
    base = Path(
        os.environ.get("TEST_OUTPUT_DIR", Path(__file__).resolve().parent.parent / "test-output")
    )
    path = base / mode()
    path.mkdir(parents=True, exist_ok=True)
    return path
