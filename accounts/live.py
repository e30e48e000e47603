"""Telling connected browsers that something about them changed.

Services call these after their transaction commits; the message reaches every consumer of the
user on every dashboard process through the channel layer. Messages carry strings and numbers
only (the Redis layer cannot encode a Decimal).
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def user_group(user_id: int) -> str:
    return f"user.{int(user_id)}"


def notify_membership_changed(user_id: int) -> None:
    """The user's memberships changed: their live connections re-check what they may see."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(
                user_group(user_id), {"type": "membership.changed", "user": int(user_id)}
            )

    transaction.on_commit(send)
