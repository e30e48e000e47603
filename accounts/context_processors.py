"""Template context every page needs from the accounts app."""

from __future__ import annotations

import asyncio
from typing import Any

from django.contrib import admin
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


def admin_link(request: HttpRequest) -> dict[str, Any]:
    """`can_use_admin`: whether Django's admin (/admin/) has anything for the user, so that
    the navigation offers it only then. The admin lets in active staff and lists the models
    whose admin gives them a permission (a superuser holds them all); staff without any find
    "You don't have permission to view or edit anything." (the demo admin's one permission,
    adding subaccounts, is used on the dashboard's own page, not in the admin).

    Read only when a template asks (the navigation), and not inside the event loop, where
    the database may not be queried: there only a superuser is offered the link."""
    user = getattr(request, "user", None)

    def can_use_admin() -> bool:
        if user is None or not (user.is_active and user.is_staff):
            return False
        if user.is_superuser:
            return True
        return not _in_event_loop() and bool(admin.site.get_app_list(request))

    return {"can_use_admin": can_use_admin}
