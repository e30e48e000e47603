"""Where the tests find the exchange's API description and the independent signing vectors.

They are `tests/spec/backpack-openapi.yml` and `tests/spec/signing-vectors.json`. A checkout
that has the team's shared originals one folder above the repository (`shared/spec/`) reads
those instead, so a change there is tested before it is copied in.
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
