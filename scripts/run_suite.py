"""Run the whole suite twice: embedded (SQLite, in-memory layer) and scaled (PostgreSQL, Redis).

Prints both results at the end. Without CI the scaled run is left out, with the reason, when
PostgreSQL or Redis cannot be reached; with CI=true that is a failure.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SUMMARY = re.compile(r"^=+ (.* in [\d.]+s.*) =+$")


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), 1):
            return True
    except OSError:
        return False


def run(label: str, env: dict[str, str], extra: list[str]) -> tuple[int, str]:
    print(f"\n===== {label} run =====", flush=True)
    started = time.monotonic()
    # the slowest tests of each run are listed after it: where the suite's time goes
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--durations=15", *extra]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    summary = "no summary"
    assert process.stdout is not None
    for line in process.stdout:
        sys.stdout.write(line)
        match = SUMMARY.match(line.strip())
        if match:
            summary = match.group(1)
    code = process.wait()
    return code, f"{summary} (exit {code}, {time.monotonic() - started:.0f} s wall)"


def main() -> int:
    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    extra = sys.argv[1:]
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    results: list[tuple[str, int, str]] = []

    code, summary = run("embedded (SQLite, in-memory channel layer)", base, extra)
    results.append(("embedded", code, summary))

    services_up = reachable("127.0.0.1", 5432) and reachable("127.0.0.1", 6379)
    if services_up:
        scaled = {**base, "DATABASE_URL": POSTGRES_URL, "REDIS_URL": REDIS_URL}
        code, summary = run("scaled (PostgreSQL, Redis)", scaled, extra)
        results.append(("scaled", code, summary))
    else:
        reason = "PostgreSQL (127.0.0.1:5432) or Redis (127.0.0.1:6379) is not reachable"
        results.append(("scaled", 1 if in_ci else 0, f"not run: {reason}"))

    print("\n===== results =====")
    for label, code, summary in results:
        print(f"{label:>9}: {'ok  ' if code == 0 else 'FAIL'} {summary}")
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
