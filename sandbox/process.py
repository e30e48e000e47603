"""``SandboxProcess``: run ``python -m sandbox`` in a subprocess on a free port.

Sync and async friendly::

    with SandboxProcess(maker=False) as sandbox:           # or: async with ...
        httpx.get(sandbox.api_url + "/api/v1/ping")
        sandbox.keys[0]["api_key"], sandbox.keys[0]["api_secret"]
        sandbox.set_faults(latency_ms=50)
        sandbox.clear_faults()
        sandbox.reset()

Unlike ``python -m sandbox``, it starts without market history (empty charts, no public
trades) unless ``history=True``.

``api_url`` is ``http://127.0.0.1:PORT``, ``ws_url`` ``ws://127.0.0.1:PORT/``. On exit the
process is terminated (then killed if it lingers).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SandboxStartError(RuntimeError):
    """The sandbox process did not come up; the message holds its output."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class SandboxProcess:
    """A sandbox exchange in a child process (see the module docstring)."""

    def __init__(
        self,
        *,
        seed: str | os.PathLike[str] | None = None,
        maker: bool = False,
        maker_seed: int = 1,
        maker_rate: float = 0.0,
        faults: dict[str, Any] | None = None,
        rate_standard: int | None = None,
        rate_historical: int | None = None,
        ws_ping_interval: float | None = None,
        ws_ping_timeout: float | None = None,
        withdrawal_confirm_s: float | None = None,
        history_limit: int | None = None,
        history: bool = False,
        history_seed: int = 1,
        host: str = "127.0.0.1",
        port: int | None = None,
        startup_timeout_s: float = 20.0,
        extra_args: list[str] | None = None,
    ) -> None:
        self.host = host
        self.fixed_port = port is not None
        self.port = port or free_port(host)
        self.startup_timeout_s = startup_timeout_s
        args = [sys.executable, "-m", "sandbox", "--host", host, "--port", str(self.port)]
        if seed is not None:
            args += ["--seed", str(seed)]
        if not maker:
            args.append("--no-maker")
        args += ["--maker-seed", str(maker_seed), "--maker-rate", str(maker_rate)]
        if history:
            args += ["--history-seed", str(history_seed)]
        else:
            args.append("--no-history")
        if faults:
            args += ["--faults", json.dumps(faults)]
        options = {
            "--rate-standard": rate_standard,
            "--rate-historical": rate_historical,
            "--ws-ping-interval": ws_ping_interval,
            "--ws-ping-timeout": ws_ping_timeout,
            "--withdrawal-confirm-s": withdrawal_confirm_s,
            "--history-limit": history_limit,
        }
        for flag, value in options.items():
            if value is not None:
                args += [flag, str(value)]
        self.args = args + list(extra_args or [])
        self.process: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self.keys: list[dict[str, Any]] = []

    @property
    def api_url(self) -> str:
        """REST base URL, e.g. ``http://127.0.0.1:40123``."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """WebSocket URL, e.g. ``ws://127.0.0.1:40123/``."""
        return f"ws://{self.host}:{self.port}/"

    # --------------------------------------------------------------- lifecycle
    def start(self) -> SandboxProcess:
        """Start the process and wait until ``GET /api/v1/ping`` answers.

        A port chosen here that someone else grabbed in the meantime is replaced (3 tries).
        """
        for attempt in range(3):
            try:
                return self._start_once()
            except SandboxStartError as exc:
                taken = "address already in use" in str(exc).lower()
                if self.fixed_port or not taken or attempt == 2:
                    raise
                self.port = free_port(self.host)
                self.args[self.args.index("--port") + 1] = str(self.port)
        raise AssertionError("unreachable")

    def _start_once(self) -> SandboxProcess:
        if self._log is not None:
            self._log.close()
        self._log = tempfile.TemporaryFile()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")])
        )
        self.process = subprocess.Popen(
            self.args, cwd=PROJECT_ROOT, stdout=self._log, stderr=subprocess.STDOUT, env=env
        )
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SandboxStartError(
                    f"sandbox exited with {self.process.returncode}: {self.output()}"
                )
            try:
                with urllib.request.urlopen(self.api_url + "/api/v1/ping", timeout=1) as answer:
                    answered = answer.read() == b"pong"
            except urllib.error.HTTPError:
                answered = True  # up, but a fault set at start (5xx share, 429 burst) answered
            except (urllib.error.URLError, ConnectionError, OSError):
                answered = False
            if answered:
                self.keys = self._get("/_sandbox/keys")
                return self
            time.sleep(0.05)
        self.stop()
        raise SandboxStartError(
            f"sandbox did not answer within {self.startup_timeout_s}s: {self.output()}"
        )

    def stop(self) -> None:
        """Terminate the process (kill it after 5 s)."""
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def output(self) -> str:
        """What the process printed so far (stdout and stderr)."""
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")[-4000:]

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> SandboxProcess:
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    # ---------------------------------------------------------------- control
    def _request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.api_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def _get(self, path: str) -> Any:
        return self._request("GET", path)

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        """Change fault injection (fields of :class:`sandbox.faults.Faults`)."""
        return self._request("POST", "/_sandbox/faults", faults)

    def clear_faults(self) -> dict[str, Any]:
        """Turn every fault off."""
        return self._request("DELETE", "/_sandbox/faults")

    def reset(self) -> None:
        """Fresh ledger and empty books from the seed; faults off."""
        self.clear_faults()
        self._request("POST", "/_sandbox/reset", {})

    def confirm_withdrawals(self) -> int:
        """Confirm every pending withdrawal now."""
        return self._request("POST", "/_sandbox/withdrawals/confirm", {})["confirmed"]

    def deposit(self, subaccount: int, symbol: str, quantity: str) -> dict[str, Any]:
        """Credit a subaccount."""
        body = {"subaccount": subaccount, "symbol": symbol, "quantity": quantity}
        return self._request("POST", "/_sandbox/deposit", body)

    def requests(self, *, clear: bool = False) -> dict[str, int]:
        """The exchange requests received by ``"METHOD /path"`` (then cleared, with ``clear``)."""
        return self._request("DELETE" if clear else "GET", "/_sandbox/requests", None)

    def set_mark_price(self, symbol: str, price: str) -> None:
        """Set a market's mark price."""
        self._request("POST", "/_sandbox/markPrice", {"symbol": symbol, "price": price})

    def settle_funding(self, symbol: str, rate: str | None = None) -> dict[str, Any]:
        """End a perpetual's funding interval now and charge it (at ``rate`` if given)."""
        body: dict[str, Any] = {"symbol": symbol}
        if rate is not None:
            body["rate"] = rate
        return self._request("POST", "/_sandbox/funding", body)
