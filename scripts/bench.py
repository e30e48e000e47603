"""Run every benchmark in tests/bench/ one after another; each prints its own figures.

Benchmarks never pass or fail on a number: they print what they measured, side by side with a
peer where the issue names one, and the ratio. Pass names to run a subset: `make bench
BENCH="engine client"` or `python scripts/bench.py engine client`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    wanted = sys.argv[1:] or os.environ.get("BENCH", "").split()
    modules = sorted(p.stem for p in (ROOT / "tests" / "bench").glob("bench_*.py"))
    if wanted:
        modules = [m for m in modules if m.removeprefix("bench_") in wanted or m in wanted]
    if not modules:
        print("no benchmarks found")
        return 0
    failures = []
    for module in modules:
        print(f"\n===== {module} =====", flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, "-m", f"tests.bench.{module}"], cwd=ROOT)
        print(f"----- {module}: exit {code}, {time.monotonic() - started:.1f} s", flush=True)
        if code:
            failures.append(module)
    if failures:
        print(f"\nbenchmarks that crashed: {', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
