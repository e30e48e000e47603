"""ASGI entry point: HTTP through Django, WebSockets through Channels consumers."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

from dashboard import heap, wal  # noqa: E402
from dashboard.config import ConfigError  # noqa: E402
from dashboard.limits import RequestLimits, twisted_limits_install  # noqa: E402

try:
    django_asgi_app = get_asgi_application()
except ConfigError as exc:  # fail fast with the setting's name, not a traceback
    sys.stderr.write(f"Configuration error: {exc}\n")
    raise SystemExit(2) from exc

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from accounts.middleware import DeviceChangeSignOutWebSocket  # noqa: E402
from dashboard.routing import websocket_urlpatterns  # noqa: E402
from trading.gateway.bare import ScriptHttpRouter  # noqa: E402
from trading.gateway.routing import ScriptSocketRouter  # noqa: E402
from trading.relay.runtime import StartEmbeddedRelay  # noqa: E402

if "daphne.server" in sys.modules:  # served by daphne: Twisted reads the request line first
    twisted_limits_install()

application = StartEmbeddedRelay(
    ProtocolTypeRouter(
        {
            "http": RequestLimits(ScriptHttpRouter(django_asgi_app)),
            "websocket": ScriptSocketRouter(
                AllowedHostsOriginValidator(
                    AuthMiddlewareStack(
                        DeviceChangeSignOutWebSocket(URLRouter(websocket_urlpatterns))
                    )
                )
            ),
        }
    )
)


def _daphne_process() -> bool:
    """This process is daphne's (`python -m daphne` or the `daphne` command), not a process
    that merely imported daphne's server (a test process may)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return (spec is not None and spec.name.startswith("daphne")) or (
        os.path.basename(sys.argv[0]) == "daphne"
    )


if _daphne_process():  # a server process: what start-up built stays put
    heap.settle()
    wal.checkpoint_beside_requests()  # SQLite: no request pays for a checkpoint
