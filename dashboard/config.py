"""Environment -> one validated, cached configuration object.

Every setting the dashboard reads from the environment is parsed here, once. An invalid
value stops start-up with a `ConfigError` whose message names the setting, so an operator
sees "DATABASE_URL: ..." instead of a traceback from deep inside a driver.

Embedded defaults: a local state folder (`.state/`, git-ignored) holds the SQLite database,
a SECRET_KEY generated on first run and the key-encryption key of the demo. The folder is
kept owner-only: 0700, every file in it 0600 (SQLite gives its -journal, -wal and -shm files
the mode of the database file, so a private database keeps its side files private too).
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_SANDBOX_PORT = 8765
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})
SQLITE_NAME = "dashboard.sqlite3"
STATE_DIR_MODE = 0o700
STATE_FILE_MODE = 0o600
# PostgreSQL's connection pool per process (`database_settings`): at most DASHBOARD_DB_POOL_SIZE
# connections, one kept open while idle; a connection beyond them is waited for this long, and
# one idle for DB_POOL_MAX_IDLE_S is closed (one per interval) down to DB_POOL_MIN_SIZE. A
# request holds its connection until it ends, waits for the exchange included, and the
# balances page of a 50-subaccount team asks for its 50 blocks at once: with fewer, its blocks
# would fill in waves, one exchange read after another.
DB_POOL_SIZE = 50
DB_POOL_MIN_SIZE = 1
DB_POOL_TIMEOUT_S = 10.0
DB_POOL_MAX_IDLE_S = 60.0

logger = logging.getLogger(__name__)


class ConfigError(ImproperlyConfigured):
    """A setting from the environment is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Config:
    state_dir: Path
    secret_key: str
    debug: bool
    production: bool
    allowed_hosts: tuple[str, ...]
    csrf_trusted_origins: tuple[str, ...]
    database_url: str | None
    redis_url: str | None
    backpack_api_url: str
    backpack_ws_url: str
    encryption_keys: tuple[bytes, ...]
    relay_mode: str
    log_level: str
    alert_webhooks: tuple[str, ...] = ()
    metrics_token: str = ""
    monitoring_flush_s: float = 5.0
    redis_pool_size: int = 20
    db_pool_size: int = DB_POOL_SIZE

    @property
    def scaled(self) -> bool:
        return self.database_url is not None and self.redis_url is not None


def _flag(env: dict[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name}: expected true or false, got {raw!r}")


def _list(env: dict[str, str], name: str, default: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, default).split(",") if item.strip())


def _url(
    env: dict[str, str], name: str, schemes: tuple[str, ...], default: str | None
) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        parts = urlsplit(raw)
        port = parts.port  # raises ValueError on a malformed port
    except ValueError as exc:
        raise ConfigError(f"{name} is malformed ({exc}): {raw!r}") from exc
    if parts.scheme not in schemes:
        wanted = ", ".join(f"{s}://" for s in schemes)
        raise ConfigError(f"{name} must start with {wanted}; got {raw!r}")
    if not parts.hostname and parts.scheme not in ("sqlite",):
        raise ConfigError(f"{name} has no host name: {raw!r}")
    if port == 0:
        raise ConfigError(f"{name} has port 0: {raw!r}")
    return raw


def _state_file(state_dir: Path, name: str, make: Callable[[], str]) -> str:
    """Read a generated value from the state folder, creating it (mode 0600) on first run."""
    path = state_dir / name
    if path.exists():
        return path.read_text().strip()
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, STATE_FILE_MODE)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def state_dir_secure(state_dir: Path) -> list[str]:
    """Create the state folder owner-only (0700), or tighten an existing one and every entry
    in it (files 0600, folders 0700); log what was loosened, in one line. Returns the names
    tightened (empty when everything was already private)."""
    try:
        state_dir.mkdir(mode=STATE_DIR_MODE, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"DASHBOARD_STATE_DIR: cannot create {state_dir}: {exc}") from exc
    try:
        entries = [state_dir, *state_dir.iterdir()]
        tightened = []
        for entry in entries:
            info = entry.lstat()
            if stat.S_ISDIR(info.st_mode):
                wanted = STATE_DIR_MODE
            elif stat.S_ISREG(info.st_mode):
                wanted = STATE_FILE_MODE
            else:
                continue  # symbolic links, sockets: not ours to change
            if stat.S_IMODE(info.st_mode) & ~wanted:
                entry.chmod(stat.S_IMODE(info.st_mode) & wanted)
                tightened.append(f"{entry.name or entry} ({stat.S_IMODE(info.st_mode):o})")
    except OSError as exc:
        raise ConfigError(f"DASHBOARD_STATE_DIR: cannot secure {state_dir}: {exc}") from exc
    if tightened:
        logger.warning(
            "DASHBOARD_STATE_DIR: %s was open to other users; now owner-only: %s",
            state_dir,
            ", ".join(tightened),
        )
    return tightened


def private_file_ensure(path: Path) -> None:
    """Create `path` empty with mode 0600 when it does not exist yet (an empty file is a valid
    empty SQLite database, which SQLite would otherwise create 0644)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, STATE_FILE_MODE))
    except FileExistsError:
        pass


def _encryption_keys(env: dict[str, str], state_dir: Path) -> tuple[bytes, ...]:
    raw = env.get("DASHBOARD_ENCRYPTION_KEYS", "").strip()
    if not raw:
        raw = _state_file(
            state_dir, "encryption_key", lambda: base64.b64encode(secrets.token_bytes(32)).decode()
        )
    keys = []
    for position, item in enumerate(raw.split(","), start=1):
        item = item.strip()
        try:
            key = base64.b64decode(item, validate=True)
        except ValueError as exc:
            raise ConfigError(
                f"DASHBOARD_ENCRYPTION_KEYS: key {position} is not valid base64"
            ) from exc
        if len(key) != 32:
            raise ConfigError(
                f"DASHBOARD_ENCRYPTION_KEYS: key {position} is {len(key)} bytes, expected 32"
            )
        keys.append(key)
    return tuple(keys)


def _alert_webhooks(env: dict[str, str]) -> tuple[str, ...]:
    urls = _list(env, "DASHBOARD_ALERT_WEBHOOKS", "")
    for position, url in enumerate(urls, start=1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"DASHBOARD_ALERT_WEBHOOKS: URL {position} must start with https:// (or "
                f"http://) and name a host; got {url!r}"
            )
    return urls


def _seconds(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a number of seconds, got {raw!r}") from None
    if not 0 <= value <= 3600:
        raise ConfigError(f"{name}: expected 0 to 3600 seconds, got {raw!r}")
    return value


def _integer(env: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()):
        raise ConfigError(f"{name}: expected a whole number, got {raw!r}")
    value = int(raw)
    if not low <= value <= high:
        raise ConfigError(f"{name}: expected {low} to {high}, got {raw!r}")
    return value


def state_dir_path(env: dict[str, str]) -> Path:
    """The state folder the environment names: DASHBOARD_STATE_DIR, else `.state/`."""
    return Path(env.get("DASHBOARD_STATE_DIR") or BASE_DIR / ".state").resolve()


def load_config(env: dict[str, str] | None = None) -> Config:
    """Parse and validate the environment; raise ConfigError naming the first bad setting."""
    env = dict(os.environ if env is None else env)
    state_dir = state_dir_path(env)
    state_dir_secure(state_dir)

    production = _flag(env, "DASHBOARD_PRODUCTION")
    debug = _flag(env, "DJANGO_DEBUG")
    if production and debug:
        raise ConfigError("DJANGO_DEBUG: must be off when DASHBOARD_PRODUCTION is on")

    secret_key = env.get("DJANGO_SECRET_KEY", "").strip()
    if not secret_key:
        if production:
            raise ConfigError("DJANGO_SECRET_KEY: required when DASHBOARD_PRODUCTION is on")
        secret_key = _state_file(state_dir, "secret_key", lambda: secrets.token_urlsafe(50))
    elif len(secret_key) < 50:
        raise ConfigError("DJANGO_SECRET_KEY: must be at least 50 characters long")

    database_url = _url(env, "DATABASE_URL", ("postgres", "postgresql", "sqlite"), None)
    redis_url = _url(env, "REDIS_URL", ("redis", "rediss"), None)
    api_url = _url(
        env, "BACKPACK_API_URL", ("http", "https"), f"http://127.0.0.1:{DEFAULT_SANDBOX_PORT}"
    )
    ws_url = _url(env, "BACKPACK_WS_URL", ("ws", "wss"), f"ws://127.0.0.1:{DEFAULT_SANDBOX_PORT}/")

    relay_mode = env.get("DASHBOARD_RELAY", "embedded").strip().lower()
    if relay_mode not in ("embedded", "worker", "off"):
        raise ConfigError(f"DASHBOARD_RELAY: expected embedded, worker or off; got {relay_mode!r}")

    log_level = env.get("DASHBOARD_LOG_LEVEL", "").strip().upper() or (
        "INFO" if debug else "WARNING"
    )
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(
            f"DASHBOARD_LOG_LEVEL: expected DEBUG, INFO, WARNING or ERROR; got {log_level!r}"
        )

    return Config(
        state_dir=state_dir,
        secret_key=secret_key,
        debug=debug,
        production=production,
        allowed_hosts=_list(env, "DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]"),
        csrf_trusted_origins=_list(env, "DJANGO_CSRF_TRUSTED_ORIGINS", ""),
        database_url=database_url,
        redis_url=redis_url,
        backpack_api_url=api_url.rstrip("/"),
        backpack_ws_url=ws_url,
        encryption_keys=_encryption_keys(env, state_dir),
        relay_mode=relay_mode,
        log_level=log_level,
        alert_webhooks=_alert_webhooks(env),
        metrics_token=env.get("DASHBOARD_METRICS_TOKEN", "").strip(),
        monitoring_flush_s=_seconds(env, "DASHBOARD_MONITORING_FLUSH_S", 5.0),
        redis_pool_size=_integer(env, "DASHBOARD_REDIS_POOL_SIZE", 20, 2, 1000),
        db_pool_size=_integer(env, "DASHBOARD_DB_POOL_SIZE", DB_POOL_SIZE, 2, 500),
    )


def database_settings(config: Config) -> dict[str, Any] | None:
    """Django's `DATABASES["default"]` for DATABASE_URL (None without it: the embedded SQLite).

    Under daphne every HTTP request runs its sync steps on a thread of its own, and Django's
    connections belong to threads: a persistent connection (CONN_MAX_AGE) is never used by a
    second request, only left open until the thread is collected. PostgreSQL therefore gets
    Django's connection pool (psycopg_pool): a request takes a connection from the process's
    pool and gives it back at its end, and a burst beyond DASHBOARD_DB_POOL_SIZE waits for one
    (up to DB_POOL_TIMEOUT_S) instead of opening more. The pool checks a connection before
    handing it out (CONN_HEALTH_CHECKS), so one broken by a PostgreSQL restart is replaced
    instead of failing a request.
    """
    if not config.database_url:
        return None
    try:
        database: dict[str, Any] = dict(dj_database_url.parse(config.database_url, conn_max_age=60))
    except ValueError as exc:
        raise ConfigError(f"DATABASE_URL is malformed: {exc}") from exc
    if database["ENGINE"] != "django.db.backends.postgresql":
        return database
    database["CONN_MAX_AGE"] = 0  # Django refuses persistent connections with the pool
    database["CONN_HEALTH_CHECKS"] = True
    database["OPTIONS"] = {
        **database.get("OPTIONS", {}),
        "pool": {
            "min_size": DB_POOL_MIN_SIZE,
            "max_size": config.db_pool_size,
            "timeout": DB_POOL_TIMEOUT_S,
            "max_idle": DB_POOL_MAX_IDLE_S,
        },
    }
    return database


@cache
def get_config() -> Config:
    """The process-wide configuration, parsed on first use."""
    return load_config()
