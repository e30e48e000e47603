"""`manage.py relay`: a relay worker for the scaled mode (PostgreSQL, Redis).

Run one or more next to the daphne processes (which then run with DASHBOARD_RELAY=worker).
Workers share the work through Redis leases: exactly one owns each market's and each
subaccount's upstream streams; when a worker dies its leases expire and another takes over.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from trading.exchange import close_session
from trading.redis_pools import bounded_client
from trading.relay.interest import RedisInterest
from trading.relay.ownership import RedisOwnership
from trading.relay.worker import Relay


class Command(BaseCommand):
    help = "Run a relay worker: exchange streams -> fragments on Redis (needs REDIS_URL)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--lease-ms", type=int, default=5000, help="ownership lease length")

    def handle(self, *args, **options) -> None:
        if not settings.REDIS_URL:
            raise CommandError("REDIS_URL is not set: relay workers share work through Redis")
        asyncio.run(self._run(options["lease_ms"]))

    async def _run(self, lease_ms: int) -> None:
        redis = bounded_client(settings.REDIS_URL, size=settings.REDIS_POOL_SIZE, role="relay")
        worker_id = f"{socket.gethostname()}:{os.getpid()}"
        relay = Relay(
            interest=RedisInterest(redis),
            ownership=RedisOwnership(redis, worker_id=worker_id, ttl_ms=lease_ms),
            worker_id=worker_id,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        relay.start()
        self.stdout.write(f"relay worker {worker_id} running", ending="\n")
        self.stdout.flush()
        try:
            await stop.wait()
        finally:
            await relay.stop()
            await close_session()
            await redis.aclose()
            self.stdout.write(f"relay worker {worker_id} stopped")
