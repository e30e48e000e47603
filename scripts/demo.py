"""`make demo`: migrate, start the sandbox exchange, seed a demo team, serve the dashboard.

Ctrl-C (or SIGTERM) stops every process this script started. Ports come from DEMO_PORT
(dashboard, default 8000) and DEMO_SANDBOX_PORT (exchange, default 8765).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_http(url: str, process: subprocess.Popen[bytes], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"demo: the {what} exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"demo: the {what} did not answer at {url} within {seconds:.0f} s")


class Processes:
    """Every child this script starts, stopped together."""

    def __init__(self) -> None:
        self.children: list[subprocess.Popen[bytes]] = []

    def start(self, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        child = subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True)
        self.children.append(child)
        return child

    def stop(self) -> None:
        for child in reversed(self.children):
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in self.children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


def main() -> int:
    port = int(os.environ.get("DEMO_PORT", "8000"))
    sandbox_port = int(os.environ.get("DEMO_SANDBOX_PORT", "8765"))
    for name, value in (("DEMO_PORT", port), ("DEMO_SANDBOX_PORT", sandbox_port)):
        if not port_free(value):
            print(f"demo: port {value} is taken; set {name} to a free port", file=sys.stderr)
            return 2
    env = {
        **os.environ,
        "BACKPACK_API_URL": f"http://127.0.0.1:{sandbox_port}",
        "BACKPACK_WS_URL": f"ws://127.0.0.1:{sandbox_port}/",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)

    manage = [PYTHON, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    keys = subprocess.run(
        [PYTHON, "-m", "sandbox", "--dump-keys"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    json.loads(keys)  # fail here, plainly, if the sandbox printed something else
    seeded = subprocess.run(
        [*manage, "seed_demo", "--keys", "-"],
        cwd=ROOT,
        env=env,
        input=keys,
        check=True,
        capture_output=True,
        text=True,
    ).stdout

    processes = Processes()
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        sandbox = processes.start(
            [PYTHON, "-m", "sandbox", "--host", "127.0.0.1", "--port", str(sandbox_port)], env
        )
        wait_http(f"http://127.0.0.1:{sandbox_port}/api/v1/ping", sandbox, "sandbox exchange")
        dashboard = processes.start(
            [
                PYTHON,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "dashboard.asgi:application",
            ],
            env,
        )
        wait_http(f"http://127.0.0.1:{port}/healthz", dashboard, "dashboard")
        print("\n" + "=" * 64)
        print(f"Backpack team desk is running: http://127.0.0.1:{port}/")
        print(f"Sandbox exchange: http://127.0.0.1:{sandbox_port}/api/v1/markets")
        print(seeded.rstrip())
        print("Press Ctrl-C to stop everything.")
        print("=" * 64, flush=True)
        while not stopping:
            for child in processes.children:
                if child.poll() is not None:
                    print(f"demo: a process exited (code {child.returncode}); stopping", flush=True)
                    stopping = True
            time.sleep(0.3)
    finally:
        processes.stop()
        print("demo: stopped every process it started", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
