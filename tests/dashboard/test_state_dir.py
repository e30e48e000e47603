"""The state folder (database, generated keys) is owner-only: 0700, every file in it 0600."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

from dashboard.config import load_config

ROOT = Path(__file__).resolve().parent.parent.parent


def modes(folder: Path) -> dict[str, str]:
    """Every entry under `folder` (itself as "."), with its permission bits in octal."""
    found = {".": f"{stat.S_IMODE(folder.stat().st_mode):o}"}
    for entry in sorted(folder.rglob("*")):
        found[str(entry.relative_to(folder))] = f"{stat.S_IMODE(entry.lstat().st_mode):o}"
    return found


def assert_owner_only(folder: Path) -> None:
    for name, mode in modes(folder).items():
        is_dir = (folder / name).is_dir()
        assert mode == ("700" if is_dir else "600"), f"{name} has mode {mode}"


def loose_state_dir(tmp_path: Path) -> Path:
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(0o755)
    (state / "secret_key").write_text("k" * 60 + "\n")
    (state / "secret_key").chmod(0o644)
    return state


def test_a_new_state_folder_and_its_generated_keys_are_owner_only(tmp_path):
    state = tmp_path / "new" / "state"

    load_config({"DASHBOARD_STATE_DIR": str(state)})

    assert modes(state) == {".": "700", "encryption_key": "600", "secret_key": "600"}


def test_a_loose_state_folder_is_tightened_and_said_once(tmp_path, caplog):
    state = loose_state_dir(tmp_path)
    (state / "notes").mkdir()
    (state / "notes").chmod(0o775)
    caplog.set_level(logging.WARNING, logger="dashboard.config")

    load_config({"DASHBOARD_STATE_DIR": str(state)})
    load_config({"DASHBOARD_STATE_DIR": str(state)})

    assert_owner_only(state)
    assert [r.getMessage() for r in caplog.records] == [
        f"DASHBOARD_STATE_DIR: {state} was open to other users; now owner-only: "
        "state (755), notes (775), secret_key (644)"
    ]


def test_a_migration_leaves_the_database_and_its_journal_and_wal_files_owner_only(tmp_path):
    state = loose_state_dir(tmp_path)
    env = {**os.environ, "DASHBOARD_STATE_DIR": str(state)}
    env.pop("DATABASE_URL", None)
    # SQLite makes its -journal and -wal files itself, during a write: list the folder while a
    # persistent journal and then a write-ahead log exist.
    probe = (
        "import json, os, stat; from django.db import connection; c = connection.cursor(); "
        "d = os.environ['DASHBOARD_STATE_DIR']; "
        "ls = lambda: {n: oct(stat.S_IMODE(os.stat(os.path.join(d, n)).st_mode)) "
        "for n in os.listdir(d)}; "
        "c.execute('PRAGMA journal_mode=PERSIST'); c.execute('CREATE TABLE probe (x)'); "
        "persist = ls(); c.execute('PRAGMA journal_mode=WAL'); "
        "c.execute('INSERT INTO probe VALUES (1)'); print(json.dumps([persist, ls()]))"
    )

    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    listed = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert migrate.returncode == 0, migrate.stderr
    assert migrate.stderr.count("now owner-only") == 1
    assert listed.returncode == 0, listed.stderr
    assert "now owner-only" not in listed.stderr
    persist, wal = json.loads(listed.stdout.splitlines()[-1])
    assert persist["dashboard.sqlite3-journal"] == "0o600"
    assert wal["dashboard.sqlite3-wal"] == "0o600"
    assert wal["dashboard.sqlite3-shm"] == "0o600"
    assert set(persist.values()) == set(wal.values()) == {"0o600", "0o700"}
    assert_owner_only(state)
