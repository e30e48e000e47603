"""Desk-issued script keys: an ED25519 public key a member gave a script (the desk never keeps
the secret), scoped to subaccounts and to read or read-and-trade, with an expiry, an optional
IP allow-list and a revoked flag."""

from __future__ import annotations

import base64
import hashlib
import ipaddress

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property


class ScriptKey(models.Model):
    """One key a script signs with. `public_key` is what the script sends as ``X-API-Key``."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="script_keys"
    )
    name = models.CharField(max_length=80)
    public_key = models.CharField(max_length=64, unique=True)
    subaccounts = models.ManyToManyField("accounts.Subaccount", related_name="script_keys")
    can_trade = models.BooleanField(default=False, help_text="Place and cancel orders.")
    expires_at = models.DateTimeField()
    ip_allowlist = models.TextField(
        blank=True, help_text="Addresses or networks, one per line; empty: any address."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    form_token = models.CharField(
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text="The one-time token of the page's form that issued the key: a resubmitted "
        "form issues no second key (empty for keys issued otherwise).",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"script key {self.name} ({self.fingerprint})"

    @cached_property  # a key's public key never changes; each order's audit names it
    def fingerprint(self) -> str:
        """First 16 hex digits of SHA-256 of the public key (what pages and the audit show)."""
        raw = base64.b64decode(self.public_key)
        return hashlib.sha256(raw).hexdigest()[:16]

    @property
    def permissions(self) -> str:
        return "read, trade" if self.can_trade else "read"

    def is_expired(self, now=None) -> bool:
        return (now or timezone.now()) >= self.expires_at

    @property
    def state(self) -> str:
        """'revoked', 'expired' or 'active'."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.is_expired() else "active"

    def networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """The allow-list as networks (a bare address is a /32 or /128)."""
        return [
            ipaddress.ip_network(line.strip(), strict=False)
            for line in self.ip_allowlist.splitlines()
            if line.strip()
        ]

    def allows_ip(self, ip: str | None) -> bool:
        """True when the list is empty or `ip` falls in one of its networks."""
        networks = self.networks()
        if not networks:
            return True
        try:
            address = ipaddress.ip_address(ip or "")
        except ValueError:
            return False
        return any(address in network for network in networks)
