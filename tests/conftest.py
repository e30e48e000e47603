"""Shared fixtures. The sandbox exchange fixtures live in tests/fixtures/sandbox.py."""

from __future__ import annotations

import os

import pytest

from tests import services

pytest_plugins = [
    "tests.fixtures.sandbox",
    "tests.fixtures.dashboard_server",
    "tests.fixtures.browser",
]


def pytest_report_header(config: pytest.Config) -> str:
    return f"dashboard mode: {services.mode()} (CI={'true' if services.in_ci() else 'false'})"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With CI=true a skipped test is a failure: CI must exercise everything."""
    if not services.in_ci():
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped:
        reporter.write_line(
            f"CI=true: {skipped} test(s) skipped; a skip is a failure in CI", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session", autouse=True)
def _close_the_async_tests_connection(django_db_setup, django_db_blocker):
    """Async tests reach the database through asgiref's one sync thread, whose connection
    pytest-django never closes; PostgreSQL then refuses to drop the test database at the
    end. Closed here first."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    with django_db_blocker.unblock():
        SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=30)


@pytest.fixture(autouse=True)
def _close_the_shared_reads_connections(django_db_blocker):
    """Shared reads (trading.balances.grouped, the selectors' read cache) keep one connection
    each on their own thread, as a server keeps it between requests; a test's connections end
    with the test, so the next test (perhaps one without database access) finds none open, and
    PostgreSQL can drop the test database at the end."""
    yield
    from django.db import connections

    from trading.balances.grouped import READ_THREAD as GROUPED
    from trading.selectors.cache import READ_THREAD as CACHED

    with django_db_blocker.unblock():
        for thread in (GROUPED, CACHED):
            thread.submit(connections.close_all).result(timeout=30)


@pytest.fixture(autouse=True)
def _fresh_rate_budgets() -> None:
    """Each test starts with the exchange's request budgets unspent, as its sandbox does (reset
    to its seed): in the scaled run the desk keeps them in Redis under ``bpx:rl:`` for every
    process, and the sandbox's keys are the same in every test, so a 429 pause or a spent
    budget of one test would otherwise hold back the next one's dashboard."""
    url = os.environ.get("REDIS_URL")
    if not url:
        return
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter("bpx:rl:*", count=1000))
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass  # a test that stops Redis on purpose finds it down: nothing to forget
    finally:
        client.close()


@pytest.fixture(scope="session", autouse=True)
def _reads_fail_at_once_where_no_exchange_listens() -> None:
    """An in-process test that points the desk at no exchange leaves it on the default
    address, where nothing listens: its pages' reads there fail at once, where five tries
    with backoff each made the authorization matrix wait about 100 s for nothing. A test that
    names an exchange (a sandbox, or an address chosen to be dead) keeps the policy."""
    from dashboard.config import DEFAULT_SANDBOX_PORT
    from trading.backpack.retry import RetryPolicy
    from trading.exchange import on_new_session

    nowhere = f"http://127.0.0.1:{DEFAULT_SANDBOX_PORT}"

    def once(session) -> None:
        if session.api_url == nowhere:
            session.retry = RetryPolicy(attempts=1)

    on_new_session(once)
