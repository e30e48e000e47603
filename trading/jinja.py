"""The Jinja2 environment of the hottest live regions (the order book and recent trades).

The relay renders each market's book up to ten times a second for every market a browser
watches; Django's template language spends about 0.5 ms on the book's forty rows, Jinja2
(compiled to Python) about 0.09 ms. Those partials live in ``templates/jinja2/`` and are
rendered through Django's own Jinja2 backend, so views, the relay and ``{% live_region %}``
reach them by name like any other template. Autoescaping is on (the backend's default); the
filters are the same functions as ``{% load numbers %}``.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

from trading.formatting import plain


def environment(**options: Any) -> Environment:
    # Django's backend passes autoescape=True; the trailing newline kept as Django keeps it.
    env = Environment(**{**options, "keep_trailing_newline": True})
    env.filters["plain"] = lambda value: plain(value, empty="")  # as {{ value|plain }}
    return env
