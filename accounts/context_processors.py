"""Template context every page needs from the accounts app."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.models import UserPreference


def theme(request: HttpRequest) -> dict[str, Any]:
    """The signed-in user's saved theme; the browser's cookie for visitors (sign-in page)."""
    chosen = request.COOKIES.get("theme")
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        saved = UserPreference.objects.filter(user=user).values_list("theme", flat=True).first()
        chosen = saved or chosen
    if chosen not in UserPreference.Theme.values:
        chosen = UserPreference.Theme.LIGHT
    return {"theme": chosen}
