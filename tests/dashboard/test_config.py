from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.config import ConfigError, database_settings, load_config

ROOT = Path(__file__).resolve().parent.parent.parent


def test_embedded_defaults_point_at_the_local_sandbox(tmp_path):
    config = load_config({"DASHBOARD_STATE_DIR": str(tmp_path)})

    assert config.database_url is None
    assert config.redis_url is None
    assert not config.scaled
    assert not config.debug
    assert config.backpack_api_url == "http://127.0.0.1:8765"
    assert config.backpack_ws_url == "ws://127.0.0.1:8765/"


def test_secret_key_is_generated_once_and_kept_private(tmp_path):
    first = load_config({"DASHBOARD_STATE_DIR": str(tmp_path)})
    second = load_config({"DASHBOARD_STATE_DIR": str(tmp_path)})

    assert len(first.secret_key) >= 50
    assert first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert load_config({"DASHBOARD_STATE_DIR": str(tmp_path / "other")}).secret_key != (
        first.secret_key
    )


def test_scaled_mode_needs_both_urls(tmp_path):
    env = {
        "DASHBOARD_STATE_DIR": str(tmp_path),
        "DATABASE_URL": "postgres://desk@db.internal:5432/desk",
        "REDIS_URL": "redis://cache.internal:6379/0",
    }

    assert load_config(env).scaled
    assert not load_config({**env, "REDIS_URL": ""}).scaled


def test_redis_pool_size_has_a_deliberate_default(tmp_path):
    env = {"DASHBOARD_STATE_DIR": str(tmp_path)}

    assert load_config(env).redis_pool_size == 20
    assert load_config({**env, "DASHBOARD_REDIS_POOL_SIZE": "50"}).redis_pool_size == 50


def test_postgresql_gets_a_bounded_connection_pool(tmp_path):
    env = {
        "DASHBOARD_STATE_DIR": str(tmp_path),
        "DATABASE_URL": "postgres://desk@db.internal:5432/desk?sslmode=require",
    }

    database = database_settings(load_config(env))
    sized = database_settings(load_config({**env, "DASHBOARD_DB_POOL_SIZE": "30"}))

    assert database["CONN_MAX_AGE"] == 0  # Django refuses persistent connections with a pool
    assert database["CONN_HEALTH_CHECKS"]
    assert database["OPTIONS"] == {
        "sslmode": "require",
        "pool": {"min_size": 1, "max_size": 50, "timeout": 10.0, "max_idle": 60.0},
    }
    assert sized["OPTIONS"]["pool"]["max_size"] == 30


def test_sqlite_by_url_and_the_embedded_default_have_no_pool(tmp_path):
    env = {"DASHBOARD_STATE_DIR": str(tmp_path)}

    by_url = database_settings(load_config({**env, "DATABASE_URL": "sqlite:////tmp/desk.db"}))

    assert "pool" not in by_url.get("OPTIONS", {})
    assert database_settings(load_config(env)) is None


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DATABASE_URL", "mysql://db/desk", "DATABASE_URL must start with postgres://"),
        ("DATABASE_URL", "postgres://db:port/desk", "DATABASE_URL is malformed"),
        ("DATABASE_URL", "postgres:///desk", "DATABASE_URL has no host name"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL must start with redis://"),
        ("REDIS_URL", "redis://cache:99999", "REDIS_URL is malformed"),
        ("BACKPACK_API_URL", "ftp://x", "BACKPACK_API_URL must start with http://"),
        ("BACKPACK_WS_URL", "http://x", "BACKPACK_WS_URL must start with ws://"),
        ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG: expected true or false"),
        ("DJANGO_SECRET_KEY", "short", "DJANGO_SECRET_KEY: must be at least 50"),
        ("DASHBOARD_RELAY", "sometimes", "DASHBOARD_RELAY: expected embedded"),
        ("DASHBOARD_ENCRYPTION_KEYS", "not base64!", "DASHBOARD_ENCRYPTION_KEYS: key 1 is not"),
        ("DASHBOARD_ENCRYPTION_KEYS", "c2hvcnQ=", "DASHBOARD_ENCRYPTION_KEYS: key 1 is 5 bytes"),
        ("DASHBOARD_REDIS_POOL_SIZE", "1e3", "DASHBOARD_REDIS_POOL_SIZE: expected a whole number"),
        ("DASHBOARD_REDIS_POOL_SIZE", "1", "DASHBOARD_REDIS_POOL_SIZE: expected 2 to 1000"),
        ("DASHBOARD_DB_POOL_SIZE", "ten", "DASHBOARD_DB_POOL_SIZE: expected a whole number"),
        ("DASHBOARD_DB_POOL_SIZE", "1", "DASHBOARD_DB_POOL_SIZE: expected 2 to 500"),
        ("DASHBOARD_DB_POOL_SIZE", "501", "DASHBOARD_DB_POOL_SIZE: expected 2 to 500"),
    ],
)
def test_invalid_setting_is_named(tmp_path, name, value, message):
    with pytest.raises(ConfigError) as excinfo:
        load_config({"DASHBOARD_STATE_DIR": str(tmp_path), name: value})

    assert str(excinfo.value).startswith(message)


@pytest.mark.parametrize(
    ("name", "value"),
    [("DATABASE_URL", "postgres://desk@db:notaport/desk"), ("REDIS_URL", "redis//nowhere")],
)
def test_start_up_fails_fast_naming_the_setting(tmp_path, name, value):
    env = {"DASHBOARD_STATE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", name: value}

    manage = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    daphne = subprocess.run(
        [sys.executable, "-m", "daphne", "-p", "0", "dashboard.asgi:application"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert manage.returncode == 2
    assert manage.stderr.startswith(f"Configuration error: {name}")
    assert "Traceback" not in manage.stderr
    assert daphne.returncode != 0
    assert f"Configuration error: {name}" in daphne.stderr
