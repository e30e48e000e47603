from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.dashboard.test_state_dir import assert_owner_only, loose_state_dir
from tests.fixtures.dashboard_server import free_port

ROOT = Path(__file__).resolve().parent.parent.parent


def test_make_demo_serves_the_login_page_and_stops_cleanly_on_ctrl_c(tmp_path):
    port, sandbox_port = free_port(), free_port()
    state = loose_state_dir(tmp_path)  # left by an older version, open to other users
    env = {
        **os.environ,
        "DASHBOARD_STATE_DIR": str(state),
        "DEMO_PORT": str(port),
        "DEMO_SANDBOX_PORT": str(sandbox_port),
    }
    demo = subprocess.Popen(
        [sys.executable, "scripts/demo.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 90
        assert demo.stdout is not None
        for line in demo.stdout:
            lines.append(line)
            if "Press Ctrl-C" in line or time.monotonic() > deadline:
                break
        output = "".join(lines)
        assert f"Backpack team desk is running: http://127.0.0.1:{port}/" in output
        assert "admin" in output and "trader" in output and "viewer" in output
        assert output.count("now owner-only") == 1
        assert {"dashboard.sqlite3", "secret_key", "encryption_key"} <= {
            entry.name for entry in state.iterdir()
        }
        assert_owner_only(state)

        login = httpx.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=5)
        assert login.status_code == 200
        assert "Sign in" in login.text
        markets = httpx.get(f"http://127.0.0.1:{sandbox_port}/api/v1/markets", timeout=5)
        assert markets.status_code == 200

        demo.send_signal(signal.SIGINT)
        rest, _ = demo.communicate(timeout=30)
    finally:
        if demo.poll() is None:
            demo.kill()

    assert demo.returncode == 0
    assert "stopped every process it started" in rest
    for stopped in (port, sandbox_port):
        try:
            httpx.get(f"http://127.0.0.1:{stopped}/", timeout=1)
            raise AssertionError(f"port {stopped} still answers after Ctrl-C")
        except httpx.ConnectError:
            pass
