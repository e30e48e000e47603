"""Template context every page needs from the accounts app."""

from __future__ import annotations

import asyncio
from typing import Any

from django.http import HttpRequest

from accounts.models import UserPreference


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def theme(request: HttpRequest) -> dict[str, Any]:
    """The signed-in user's saved theme, else the browser's `theme` cookie.

    Async views render inside the event loop, where the database may not be queried: they use
    the cookie, which the page script keeps equal to the saved theme after any page that read it
    (the page after sign-in does).
    """
    chosen = request.COOKIES.get("theme")
    if not _in_event_loop():
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            saved = UserPreference.objects.filter(user=user).values_list("theme", flat=True).first()
            chosen = saved or chosen
    if chosen not in UserPreference.Theme.values:
        chosen = UserPreference.Theme.LIGHT
    return {"theme": chosen}
