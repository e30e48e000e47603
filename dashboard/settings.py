"""Django settings, all from the environment through `dashboard.config`.

Embedded mode (default): SQLite in the state folder, the in-memory channel layer.
Scaled mode: DATABASE_URL (PostgreSQL through psycopg 3) and REDIS_URL (channels_redis and
the shared rate-limit budgets).
"""

from __future__ import annotations

from dashboard.config import (
    BASE_DIR,
    SQLITE_NAME,
    database_settings,
    get_config,
    private_file_ensure,
)

CONFIG = get_config()

SECRET_KEY = CONFIG.secret_key
DEBUG = CONFIG.debug
ALLOWED_HOSTS = list(CONFIG.allowed_hosts)
CSRF_TRUSTED_ORIGINS = list(CONFIG.csrf_trusted_origins)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "template_partials",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "accounts",
    "trading",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Above the sync-only DeviceChangeSignOut: it runs in the same worker thread (below it,
    # Django would move its response step to the thread on its own).
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.DeviceChangeSignOut",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "dashboard.urls"
ASGI_APPLICATION = "dashboard.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.theme",
                "accounts.context_processors.admin_link",
            ],
        },
    },
    {
        # The order book, recent trades and market statistics only: rendered by the relay up
        # to ten times a second per market, where Jinja2 is about five times cheaper
        # (trading/jinja.py).
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "trading.jinja.environment"},
    },
]

if CONFIG.database_url:
    # PostgreSQL through Django's connection pool (DASHBOARD_DB_POOL_SIZE), see
    # dashboard.config.database_settings.
    DATABASES = {"default": database_settings(CONFIG)}
else:
    # Created here 0600 so that SQLite, which copies the database's mode to its journal and
    # WAL files, never makes a file others can read.
    private_file_ensure(CONFIG.state_dir / SQLITE_NAME)
    DATABASES = {
        "default": {
            "ENGINE": "dashboard.sqlite_pool",  # SQLite, its connections kept for reuse
            "NAME": CONFIG.state_dir / SQLITE_NAME,
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                # Write-ahead log: a commit appends to the log instead of syncing the
                # journal and the database file (about 10 ms a commit on a plain disk, three
                # commits per order); the database stays consistent after any crash, and a
                # power cut can only lose the last commits. Scaled runs use PostgreSQL.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

if CONFIG.redis_url:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "dashboard.channel_layer.ScaledChannelLayer",
            "CONFIG": {
                # At most this many Redis connections per process (DASHBOARD_REDIS_POOL_SIZE);
                # a command beyond them waits for one instead of failing.
                "pool_size": CONFIG.redis_pool_size,
                # redis-py 8 reads with a 5 s socket timeout by default, which aborts the
                # layer's blocking 5 s BZPOPMIN (django/channels_redis#422): allow longer.
                "hosts": [{"address": CONFIG.redis_url, "socket_timeout": 15}],
                "capacity": 1000,
                "expiry": 30,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "dashboard.channel_layer.EmbeddedChannelLayer"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = CONFIG.state_dir / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT.mkdir(mode=0o700, parents=True, exist_ok=True)
# Production serves collected, hashed, compressed files; the demo and the tests serve straight
# from the source folders (DEBUG off too), so they work without a collectstatic step.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if CONFIG.production
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not CONFIG.production
WHITENOISE_AUTOREFRESH = DEBUG

# Sessions expire after a working day, and when the browser closes.
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if CONFIG.production:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Failed logins: five for one user name from one address, or twenty from one address across
# user names, then a pause of fifteen minutes from the last failure (accounts/throttling.py).
# A refused try during the pause does not restart it, so the time the page names holds.
AXES_FAILURE_LIMIT = "accounts.throttling.failure_limit"
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_RESET_ON_SUCCESS = False  # accounts.throttling.sign_in_failures_forget instead
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "accounts.throttling.lockout_response"

OTP_TOTP_ISSUER = "Backpack team desk"
# The admin never shows anyone's TOTP secret or QR code (accounts: enrolment is self-service).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

BACKPACK_API_URL = CONFIG.backpack_api_url
BACKPACK_WS_URL = CONFIG.backpack_ws_url
REDIS_URL = CONFIG.redis_url
REDIS_POOL_SIZE = CONFIG.redis_pool_size
DASHBOARD_RELAY = CONFIG.relay_mode
DASHBOARD_ALERT_WEBHOOKS = CONFIG.alert_webhooks
DASHBOARD_METRICS_TOKEN = CONFIG.metrics_token
DASHBOARD_MONITORING_FLUSH_S = CONFIG.monitoring_flush_s

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"permission_denied": {"()": "dashboard.log_filters.PermissionDeniedOneLine"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": CONFIG.log_level},
    "loggers": {
        "axes": {"level": "WARNING"},
        "django.request": {"filters": ["permission_denied"]},
    },
}
