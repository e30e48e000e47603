"""What the client's parts need of the session that sends their requests: one call.

The session (`session.ExchangeSession`) builds the clients and the market cache and hands
itself to them; they name it by this shape only, so none of them imports the session.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from .routes import Route
from .signing import Credentials


class Calls(Protocol):
    """Send `route` with `params` (signed with `credentials`) within the session's budget
    and return the decoded answer; a ``BackpackError`` otherwise."""

    async def call(
        self,
        route: Route,
        params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        credentials: Credentials | None = None,
        label: str = "public",
        retry: bool | None = None,
    ) -> Any: ...
