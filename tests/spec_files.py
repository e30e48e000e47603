"""Where the tests find the exchange's API description and the independent signing vectors.

The truth is `../shared/spec/` beside the repository; a checkout without it (a CI clone placed
elsewhere) uses the copies in `tests/spec/`, taken from it unchanged.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_SHARED = ROOT.parent / "shared" / "spec"
_COPY = ROOT / "tests" / "spec"


def spec_file(name: str) -> Path:
    shared = _SHARED / name
    return shared if shared.exists() else _COPY / name


SPEC_PATH = spec_file("backpack-openapi.yml")
VECTORS_PATH = spec_file("signing-vectors.json")
