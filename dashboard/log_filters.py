"""Logging filters named in settings.LOGGING."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied


class PermissionDeniedOneLine(logging.Filter):
    """A refused permission is an everyday event, not a crash: Django logs it on
    `django.request` with the traceback; this makes it one line with the user, the path and
    the reason."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, PermissionDenied):
            return True
        request = getattr(record, "request", None)
        user = getattr(request, "user", None)
        username = user.get_username() if user is not None and user.is_authenticated else None
        record.msg = "Permission denied: user=%s path=%s reason=%s"
        record.args = (
            username or "anonymous",
            getattr(request, "path", "?"),
            str(exc) or "no reason given",
        )
        record.exc_info = None
        record.exc_text = None
        return True
