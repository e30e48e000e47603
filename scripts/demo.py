"""`make demo`: migrate, seed a demo team, start the sandbox exchange (with its market history),
seed a week of equity snapshots, serve the dashboard.

Ctrl-C (or SIGTERM) stops every process this script started. Ports come from DEMO_PORT
(dashboard, default 8000) and DEMO_SANDBOX_PORT (exchange, default 8765).

The console stays quiet after the banner, so the printed logins stay in view: the dashboard's
access log goes to `access.log` in the state folder, everything else the exchange and the
dashboard print to `demo.log` there (its last lines are shown when a process dies).
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
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
sys.path.insert(0, str(ROOT))

from dashboard.config import private_file_ensure, state_dir_path  # noqa: E402

ACCESS_LOG = "access.log"
DEMO_LOG = "demo.log"
TAIL_LINES = 20


def port_free(port: int) -> bool:
    """Nobody listens on `port`. Connections of a stopped demo lingering in TIME_WAIT do not
    count: the servers bind with SO_REUSEADDR (uvicorn and daphne both do), so this probe does
    too, or a restart right after Ctrl-C would be refused for a minute."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def log_open(path: Path) -> IO[bytes]:
    """Append to a log file in the state folder, created owner-only like everything there."""
    private_file_ensure(path)
    return open(path, "ab", buffering=0)  # noqa: SIM115 - closed by main()


def log_tail(path: Path, since: int) -> str:
    """The last lines written to `path` after byte offset `since` (this run's lines)."""
    with open(path, "rb") as handle:
        handle.seek(since)
        lines = handle.read().decode("utf-8", "replace").splitlines()
    return "\n".join(lines[-TAIL_LINES:])


def wait_http(url: str, process: subprocess.Popen[bytes], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StartError(f"demo: the {what} exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise StartError(f"demo: the {what} did not answer at {url} within {seconds:.0f} s")


def equity_history(manage: list[str], env: dict[str, str], log: IO[bytes]) -> str:
    """A week of equity snapshots so the sparklines draw at once (needs the exchange up);
    what it did, in a line or two. A failure is said, and the demo goes on without them."""
    done = subprocess.run(
        [*manage, "seed_demo_equity"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        log.write(done.stderr.encode())
        code = done.returncode
        return f"Equity history: not seeded (seed_demo_equity exited {code}; see {DEMO_LOG})"
    return "\n".join(f"Equity history: {line}" for line in done.stdout.splitlines())


class StartError(Exception):
    """A process did not come up; the message says which."""


class Processes:
    """Every child this script starts, stopped together."""

    def __init__(self) -> None:
        self.children: list[subprocess.Popen[bytes]] = []

    def start(
        self, args: list[str], env: dict[str, str], log: IO[bytes]
    ) -> subprocess.Popen[bytes]:
        child = subprocess.Popen(
            args, cwd=ROOT, env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT
        )
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

    state = state_dir_path(env)  # made owner-only by migrate, above
    demo_log = log_open(state / DEMO_LOG)
    since = demo_log.seek(0, os.SEEK_END)
    demo_log.write(f"--- demo started {time.strftime('%Y-%m-%d %H:%M:%S')} ---\n".encode())
    private_file_ensure(state / ACCESS_LOG)
    processes = Processes()
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    code = 0
    try:
        sandbox = processes.start(
            [PYTHON, "-m", "sandbox", "--host", "127.0.0.1", "--port", str(sandbox_port)],
            env,
            demo_log,
        )
        wait_http(f"http://127.0.0.1:{sandbox_port}/api/v1/ping", sandbox, "sandbox exchange")
        equity = equity_history(manage, env, demo_log)
        dashboard = processes.start(
            [
                PYTHON,
                "-m",
                "daphne",
                "--access-log",
                str(state / ACCESS_LOG),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "dashboard.asgi:application",
            ],
            env,
            demo_log,
        )
        wait_http(f"http://127.0.0.1:{port}/healthz", dashboard, "dashboard")
        print("\n" + "=" * 64)
        print(f"Backpack team desk is running: http://127.0.0.1:{port}/")
        print(f"Sandbox exchange: http://127.0.0.1:{sandbox_port}/api/v1/markets")
        print(seeded.rstrip())
        print(equity)
        print(f"Logs: {state / ACCESS_LOG} (requests), {state / DEMO_LOG} (everything else)")
        print("Press Ctrl-C to stop everything.")
        print("=" * 64, flush=True)
        while not stopping:
            for child in processes.children:
                if child.poll() is not None:
                    print(f"demo: a process exited (code {child.returncode}); stopping", flush=True)
                    print(log_tail(state / DEMO_LOG, since), flush=True)
                    stopping = True
                    code = 1
            time.sleep(0.3)
    except StartError as exc:
        print(exc, file=sys.stderr)
        print(log_tail(state / DEMO_LOG, since), file=sys.stderr, flush=True)
        code = 1
    finally:
        processes.stop()
        demo_log.close()
        print("demo: stopped every process it started", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
