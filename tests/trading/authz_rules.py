"""Authorisation matrix rules of every trading sub-suite, gathered for the matrix test.

The matrix test reads `tests/<folder>/authz_rules.py`; the trading tests live one level
deeper, so each sub-suite keeps its rules in `tests/trading/<sub>/authz_rules.py` and this
module merges them (a rule defined twice is an error).
"""

from __future__ import annotations

import importlib
from pathlib import Path

RULES: dict = {}
WS_RULES: dict = {}

for _path in sorted(Path(__file__).resolve().parent.glob("*/authz_rules.py")):
    _module = importlib.import_module(f"tests.trading.{_path.parent.name}.authz_rules")
    for _target, _found in (
        (RULES, getattr(_module, "RULES", {})),
        (WS_RULES, getattr(_module, "WS_RULES", {})),
    ):
        _clash = set(_target) & set(_found)
        assert not _clash, f"{_path}: rules defined twice: {sorted(_clash)}"
        _target.update(_found)
