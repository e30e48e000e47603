"""A dashboard on PostgreSQL keeps its connections in a pool (dashboard.config.database_settings).

Under daphne every request runs on a thread of its own, and Django's connections belong to
threads: without the pool each request opened a new PostgreSQL connection (a backend
process, 2 to 3 ms) and left it to the garbage collector. Here a real daphne process serves
successive requests and a burst larger than its pool, and PostgreSQL's own view of its
backends (`pg_stat_activity`) shows how many connections that took; and a balances page with
more blocks than the pool holds still fills.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from tests import services
from tests.fixtures.dashboard_server import DashboardServer, migrated_template
from tests.trading.gateway.conftest import SETUP as SCRIPT_SETUP
from trading.backpack.signing import Credentials

PASSWORD = "pooled-password-1"
REQUESTS = 20
POOL_SIZE = 3
BURST = 4 * POOL_SIZE
PAGE = "/accounts/subaccounts/"  # signed in: the session, the user, the subaccounts


@pytest.fixture
def own_database() -> Iterator[str]:
    """A fresh PostgreSQL database that only the test's dashboard uses, migrated (a copy of
    the one this process migrated once)."""
    postgres = services.postgres_available()
    template = migrated_template("postgres") if postgres else None  # else: skipped below
    with services.fresh_postgres_database("desk_pool", template=template) as url:
        yield url


def backends(database_url: str) -> set[int]:
    """The PostgreSQL backends (process ids) connected to the database now."""
    name = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(services.postgres_url(), autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [name])
        return {pid for (pid,) in rows}


def pooled_server(tmp_path, database: str, pool_size: int, sandbox=None) -> DashboardServer:
    """A dashboard (not started) on `database` whose pool holds at most `pool_size`
    connections, in front of `sandbox` if given; no relay and no metrics flush, so only
    requests use the database."""
    env = {
        "DATABASE_URL": database,
        "DASHBOARD_DB_POOL_SIZE": str(pool_size),
        "DASHBOARD_RELAY": "off",
        "DASHBOARD_MONITORING_FLUSH_S": "0",
    }
    urls = {"api_url": sandbox.api_url, "ws_url": sandbox.ws_url} if sandbox else {}
    server = DashboardServer(tmp_path / "state", env=env, **urls)
    server.state_dir.mkdir(mode=0o700)
    return server


def browser(server: DashboardServer, cookies: dict[str, str]) -> httpx.Client:
    return httpx.Client(base_url=server.url, cookies=cookies, timeout=30)


@pytest.fixture
def dashboard(tmp_path, own_database) -> Iterator[DashboardServer]:
    """A daphne dashboard on `own_database` whose pool holds at most POOL_SIZE connections."""
    server = pooled_server(tmp_path, own_database, POOL_SIZE)
    try:
        server.prepare(migrate=False)  # migrated already
        server.create_user("pooled", PASSWORD)
        server.start(migrate=False)
        yield server
    finally:
        server.stop()


def test_successive_requests_share_a_pooled_connection(dashboard, own_database):
    cookies = dashboard.sign_in("pooled", PASSWORD)
    seen: set[int] = set()
    with browser(dashboard, cookies) as http:
        for _ in range(REQUESTS):
            assert http.get(PAGE).status_code == 200
            seen |= backends(own_database)

    assert seen, "PostgreSQL showed no backend of the dashboard's database"
    assert len(seen) <= POOL_SIZE, (
        f"{REQUESTS} successive requests were served by {len(seen)} PostgreSQL connections"
    )


def test_a_burst_larger_than_the_pool_waits_for_its_connections(dashboard, own_database):
    cookies = dashboard.sign_in("pooled", PASSWORD)

    def get(_: int) -> int:
        with browser(dashboard, cookies) as http:
            return http.get(PAGE).status_code

    with ThreadPoolExecutor(max_workers=BURST) as pool:
        statuses = list(pool.map(get, range(BURST)))
    connected = backends(own_database)

    assert statuses == [200] * BURST
    assert 1 <= len(connected) <= POOL_SIZE


def test_connections_postgresql_dropped_are_replaced_unseen(dashboard, own_database):
    # As after a PostgreSQL restart: every connection the pool keeps is gone on the server.
    cookies = dashboard.sign_in("pooled", PASSWORD)
    with browser(dashboard, cookies) as http:
        assert http.get(PAGE).status_code == 200
        dropped = backends(own_database)
        with psycopg.connect(services.postgres_url(), autocommit=True) as conn:
            for pid in dropped:
                conn.execute("SELECT pg_terminate_backend(%s)", [pid])

        statuses = [http.get(PAGE).status_code for _ in range(3)]

    assert dropped
    assert statuses == [200] * 3
    assert not dropped & backends(own_database)


@pytest.fixture
def desk_dashboard(tmp_path, own_database, sandbox) -> Iterator[DashboardServer]:
    """The demo team on the sandbox, served by a dashboard whose pool holds two connections."""
    server = pooled_server(tmp_path, own_database, 2, sandbox)
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(sandbox.keys))
    try:
        server.prepare(migrate=False)  # migrated already
        server.manage("seed_demo", "--keys", str(keys))
        server.start(migrate=False)
        yield server
    finally:
        server.stop()


def test_balance_blocks_beyond_the_pool_all_fill(desk_dashboard):
    # Each block holds a pooled connection while it waits for the grouped read of every
    # block's minimums and sparklines. That read has a connection of its own: when its thread
    # took one from the same pool, a page of more blocks than the pool holds hung (the blocks
    # waited for the read, the read for their connections, until the pool's timeout).
    cookies = desk_dashboard.sign_in("trader", "trader-demo-password")
    with browser(desk_dashboard, cookies) as http:
        page = http.get("/trading/balances/").text
    blocks = sorted(set(re.findall(r"/trading/balances/(\d+)/", page)))
    assert len(blocks) == 2, page[:2000]

    def block(n: int) -> tuple[int, str]:
        with browser(desk_dashboard, cookies) as http:
            answer = http.get(f"/trading/balances/{blocks[n % len(blocks)]}/")
            return answer.status_code, answer.text

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(block, range(8)))

    assert [status for status, _ in answers] == [200] * 8, answers[0][1][:2000]


@pytest.fixture
def script_desk(tmp_path, own_database, sandbox) -> Iterator[tuple[DashboardServer, dict]]:
    """A desk on `own_database` in front of the sandbox, with desk keys for scripts (the
    gateway tests' seed)."""
    server = pooled_server(tmp_path, own_database, POOL_SIZE, sandbox)
    key = sandbox.keys[0]
    try:
        server.prepare(migrate=False)  # migrated already
        seed = SCRIPT_SETUP.format(api_key=key["api_key"], api_secret=key["api_secret"], limit="1")
        output = server.manage("shell", "-c", seed)
        server.start(migrate=False)
        yield server, json.loads(output.strip().splitlines()[-1])["read"]
    finally:
        server.stop()


def test_a_script_request_after_postgresql_dropped_the_connections_is_answered(
    script_desk, own_database
):
    # /bpx/ is served outside Django's request cycle and keeps its connection between
    # requests: after a PostgreSQL restart the first script request failed with a 500.
    server, pair = script_desk
    credentials = Credentials(pair["api_key"], pair["secret"])

    def balances() -> int:
        headers = credentials.headers("balanceQuery", None, time.time_ns() // 1_000_000, 5000)
        with httpx.Client(timeout=30) as http:
            return http.get(f"{server.url}/bpx/api/v1/capital", headers=headers).status_code

    assert balances() == 200
    dropped = backends(own_database)
    with psycopg.connect(services.postgres_url(), autocommit=True) as conn:
        for pid in dropped:
            conn.execute("SELECT pg_terminate_backend(%s)", [pid])

    statuses = [balances() for _ in range(3)]

    assert dropped
    assert statuses == [200] * 3
