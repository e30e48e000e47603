"""The embedded run's channel layer: Channels' in-memory layer, swept for expired messages at
most once a second.

The stock ``InMemoryChannelLayer`` walks every channel and every group on every ``receive``,
so with one consumer waiting per browser socket each delivered message costs O(sockets): with
200 sockets the sweep took about 16% of the dashboard process's CPU in
``tests/bench/bench_relay.py`` (profiled). Messages expire after 60 s and group memberships
after a day; sweeping once a second instead changes when they go by at most that second.
"""

from __future__ import annotations

import time

from channels.layers import InMemoryChannelLayer

SWEEP_EVERY_S = 1.0


class EmbeddedChannelLayer(InMemoryChannelLayer):
    """``InMemoryChannelLayer`` whose expiry sweep runs at most every ``SWEEP_EVERY_S``."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._next_sweep = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_EVERY_S
        super()._clean_expired()
