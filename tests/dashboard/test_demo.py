from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.dashboard.test_state_dir import assert_owner_only, loose_state_dir
from tests.fixtures.dashboard_server import free_port
from tests.waiting import eventually

ROOT = Path(__file__).resolve().parent.parent.parent
BANNER_END = "Press Ctrl-C"


def start_demo(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """Run scripts/demo.py; return it and what it printed up to the end of its banner."""
    demo = subprocess.Popen(
        [sys.executable, "scripts/demo.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 90
    assert demo.stdout is not None
    for line in demo.stdout:
        lines.append(line)
        ended = len(lines) > 1 and BANNER_END in lines[-2] and line.startswith("=" * 64)
        if ended or time.monotonic() > deadline:
            break
    return demo, "".join(lines)


def ctrl_c(demo: subprocess.Popen[str]) -> str:
    """Ctrl-C the demo; return what it printed after its banner."""
    demo.send_signal(signal.SIGINT)
    rest, _ = demo.communicate(timeout=30)
    return rest


def stop(demo: subprocess.Popen[str]) -> None:
    """After a failure: Ctrl-C first, so that the demo stops what it started (each process in a
    session of its own, which killing the demo alone left running); killed if it hangs."""
    if demo.poll() is not None:
        return
    demo.send_signal(signal.SIGINT)
    try:
        demo.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        demo.kill()
        demo.communicate()


def sign_in(browser: httpx.Client, url: str, username: str, password: str) -> None:
    """Sign in as a browser would."""
    form = browser.get("/accounts/login/").text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token is not None
    fields = {"username": username, "password": password, "csrfmiddlewaretoken": token[1]}
    signed_in = browser.post("/accounts/login/", data=fields, headers={"Referer": url})
    assert signed_in.status_code == 302, signed_in.text


def balance_blocks(url: str, username: str, password: str) -> list[str]:
    """Sign in, then read each subaccount block of the balances page."""
    with httpx.Client(base_url=url, timeout=10) as browser:
        sign_in(browser, url, username, password)
        page = browser.get("/trading/balances/").text
        ids = sorted(set(re.findall(r'hx-get="/trading/balances/(\d+)/"', page)))
        return [browser.get(f"/trading/balances/{pk}/").text for pk in ids]


def reconciled_pages(url: str, username: str, password: str) -> bool:
    """Sign in, then wait until the overview and the PnL page show every card with no
    mismatch between the ledger and the exchange's equity (once the relay has synced the
    ledger: until then the seeded balances are not in it)."""
    with httpx.Client(base_url=url, timeout=10) as browser:
        sign_in(browser, url, username, password)

        def clean() -> bool:
            overview, pnl = browser.get("/").text, browser.get("/trading/pnl/").text
            assert "Desk A" in overview and "Main" in overview  # the cards are there
            return "data-mismatch" not in overview + pnl

        return eventually(
            clean, 60, "the overview and PnL pages free of mismatches", every_s=1
        ).blocking()


def assert_closed(*ports: int) -> None:
    for stopped in ports:
        try:
            httpx.get(f"http://127.0.0.1:{stopped}/", timeout=1)
            raise AssertionError(f"port {stopped} still answers after Ctrl-C")
        except httpx.ConnectError:
            pass


def test_make_demo_serves_the_login_page_stays_quiet_and_restarts_at_once(tmp_path):
    port, sandbox_port = free_port(), free_port()
    state = loose_state_dir(tmp_path)  # left by an older version, open to other users
    env = {
        **os.environ,
        "DASHBOARD_STATE_DIR": str(state),
        "DEMO_PORT": str(port),
        "DEMO_SANDBOX_PORT": str(sandbox_port),
    }
    demo, output = start_demo(env)
    try:
        assert f"Backpack team desk is running: http://127.0.0.1:{port}/" in output
        assert "admin" in output and "trader" in output and "viewer" in output
        assert output.count("now owner-only") == 1
        assert f"Logs: {state / 'access.log'} (requests)" in output
        assert {"dashboard.sqlite3", "secret_key", "encryption_key"} <= {
            entry.name for entry in state.iterdir()
        }

        login = httpx.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=5)
        assert login.status_code == 200
        assert "Sign in" in login.text
        blocks = balance_blocks(f"http://127.0.0.1:{port}", "trader", "trader-demo-password")
        assert [block.count("<polyline") for block in blocks] == [2, 2]  # Desk A, Main
        # the seeded week is the exchange's own past: the ledger explains it to the cent
        assert reconciled_pages(f"http://127.0.0.1:{port}", "trader", "trader-demo-password")
        markets = httpx.get(f"http://127.0.0.1:{sandbox_port}/api/v1/markets", timeout=5)
        assert markets.status_code == 200
        # charts and sparklines are full from the first page view
        day = {"symbol": "SOL_USDC", "interval": "1m", "startTime": int(time.time()) - 86_400}
        candles = httpx.get(f"http://127.0.0.1:{sandbox_port}/api/v1/klines", params=day)
        assert len(candles.json()) >= 1439
        assert (
            "Equity history: generated a week of equity snapshots for Desk A, Desk B, Main"
            in output
        )

        rest = ctrl_c(demo)
    finally:
        stop(demo)

    assert demo.returncode == 0
    # the requests were logged, to the file: the console after the banner has only the goodbye
    access = (state / "access.log").read_text()
    # the login check and two sign-ins
    assert access.count('"GET /accounts/login/" 200') == 3 and '"GET /trading/balances/' in access
    assert rest.strip().splitlines() == ["demo: stopped every process it started"]
    assert_owner_only(state)
    assert_closed(port, sandbox_port)

    # at once again on the same ports, while the closed connections linger in TIME_WAIT
    demo, output = start_demo(env)
    try:
        assert f"Backpack team desk is running: http://127.0.0.1:{port}/" in output, output
        assert (
            "Equity history: kept the equity snapshots already there for Desk A, Desk B, Main"
            in output
        )
        assert httpx.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=5).status_code == 200
        rest = ctrl_c(demo)
    finally:
        stop(demo)
    assert demo.returncode == 0
    assert rest.strip().splitlines() == ["demo: stopped every process it started"]
    assert_closed(port, sandbox_port)
