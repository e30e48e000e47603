"""The alerts bell: who sees which alert, the unread count, and the live push.

The bell is one fragment, `alerts_bell_html`, rendered by base.html on every page and pushed
to the channel-layer group `alerts.<user id>` (joined by the AccountConsumer) whenever an
alert that user may see opens or clears. Messages carry strings only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Membership
from accounts.permissions import subaccounts_visible_to

BELL_SIZE = 8


@dataclass(frozen=True)
class Bell:
    """What the bell shows one user."""

    unread: int
    alerts: tuple[Any, ...]


def alerts_visible_to(user: Any) -> QuerySet:
    """Alerts of the subaccounts `user` may view, plus the ones of no subaccount."""
    from trading.models import Alert

    if user is None or not user.is_authenticated:
        return Alert.objects.none()
    visible = subaccounts_visible_to(user).values("pk")
    return Alert.objects.filter(Q(subaccount__isnull=True) | Q(subaccount__in=visible))


def bell_for(user: Any) -> Bell:
    """The unread count (alerts opened or cleared since the user last looked) and the latest."""
    from trading.models import AlertSeen

    alerts = alerts_visible_to(user).select_related("subaccount")
    seen = AlertSeen.objects.filter(user=user).values_list("seen_at", flat=True).first()
    unread = (
        alerts if seen is None else alerts.filter(Q(opened_at__gt=seen) | Q(cleared_at__gt=seen))
    )
    return Bell(unread=unread.count(), alerts=tuple(alerts[:BELL_SIZE]))


def bell_mark_seen(user: Any) -> None:
    """The user opened the bell: everything up to now is read."""
    from trading.models import AlertSeen

    AlertSeen.objects.update_or_create(user=user, defaults={"seen_at": timezone.now()})


def alerts_bell_html(*, bell: Bell) -> str:
    """The bell fragment (root id `alerts-bell`, swapped out of band when pushed)."""
    return render_to_string("trading/partials/alerts_bell.html", {"bell": bell})


def alert_recipients(subaccount_ids: Iterable[int | None]) -> list[int]:
    """Users to push to: members of those subaccounts and superusers; everyone active for
    alerts that concern no subaccount."""
    users = get_user_model().objects.filter(is_active=True)
    given = list(subaccount_ids)
    ids = {pk for pk in given if pk is not None}
    if None in given:
        return list(users.values_list("pk", flat=True))
    members = Membership.objects.filter(subaccount_id__in=ids).values("user_id")
    return list(users.filter(Q(pk__in=members) | Q(is_superuser=True)).values_list("pk", flat=True))


def bell_messages(user_ids: Iterable[int]) -> list[tuple[int, dict[str, str]]]:
    """The push message of each user's bell (sync, database only)."""
    users = get_user_model().objects.filter(pk__in=list(user_ids), is_active=True)
    return [
        (user.pk, {"type": "push", "html": alerts_bell_html(bell=bell_for(user))}) for user in users
    ]


async def push_bells(messages: list[tuple[int, dict[str, str]]]) -> None:
    """Send each user's bell to their `alerts.<id>` group."""
    layer = get_channel_layer()
    if layer is None:
        return
    for user_id, message in messages:
        await layer.group_send(f"alerts.{int(user_id)}", message)
