"""A dashboard server on SQLite checkpoints its write-ahead log in a thread of its own, so no
request pays for copying the log into the database (dashboard/wal.py): rows written to the
database are in the database file within seconds, not only once the log passes 1,000 pages."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from dashboard.config import SQLITE_NAME
from tests.fixtures.dashboard_server import DashboardServer
from tests.waiting import eventually

WRITE = """
from django.contrib.auth import get_user_model
for n in range(3):
    get_user_model().objects.create_user(f"writer{n}")
"""


def log_progress(database: Path) -> tuple[int, int]:
    """(frames in the log, frames copied into the database) from the log's shared index, read
    without checkpointing (its header, then the checkpoint information at byte 96)."""
    index = Path(f"{database}-shm").read_bytes()[:100]
    (frames,) = struct.unpack_from("=I", index, 16)
    (copied,) = struct.unpack_from("=I", index, 96)
    return frames, copied


@pytest.fixture
def server(tmp_path, _sandbox_still):
    # SQLite in both runs (its log is the subject): an empty DATABASE_URL and REDIS_URL are
    # unset for the dashboard, and the scaled run's fixture then makes no database of its own.
    server = DashboardServer(
        tmp_path / "state",
        api_url=_sandbox_still.api_url,
        ws_url=_sandbox_still.ws_url,
        env={"DATABASE_URL": "", "REDIS_URL": "", "DASHBOARD_RELAY": "off"},
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


def test_rows_reach_the_database_file_without_waiting_for_a_full_log(server):
    database = server.state_dir / SQLITE_NAME
    server.manage("shell", "-c", WRITE)  # another process: its commits leave the log as it is
    frames, _ = log_progress(database)
    assert 0 < frames < 1000  # far from the size at which a commit would checkpoint

    def copied() -> bool:
        frames, copied = log_progress(database)
        return frames > 0 and copied == frames

    eventually(copied, within_s=10, every_s=0.2, what="the log copied into the database").blocking()
