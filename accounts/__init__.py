"""Subaccount administration: who may do what with which subaccount.

Public API for other apps:

- ``accounts.permissions``: ``Role`` (viewer < trader < admin), ``subaccounts_visible_to(user,
  *, min_role=Role.VIEWER)``, ``role_of(user, subaccount)``, ``has_role(...)``,
  ``require_role(user, subaccount, min_role)`` (raises ``PermissionDenied``); superusers hold
  every role.
- ``accounts.decorators``: ``signed_in``, ``subaccount_role(min_role)`` (views taking
  ``subaccount_id``; admin pages also need two-factor), ``two_factor_redirect(request)``,
  ``client_ip(request)``.
- ``accounts.crypto``: ``subaccount_credentials(subaccount) -> Credentials`` (the secret is
  decrypted only when the signer calls it); ``SecretUnavailableError`` / ``KeyMissingError``
  ("cannot decrypt the API secret of subaccount X: key missing") to show on the page.
- ``accounts.audit.audit_record(*, actor, action, subaccount=None, parameters=None,
  result="ok", detail="", ip=None)``: append to the trail (secret-looking keys removed).
- ``accounts.twofactor.code_check(user, code)``: the device accepting a fresh TOTP or backup
  code, or None (a TOTP code works once); raises ``CodeThrottled`` (its message says how long
  to wait) while wrong codes before hold the device that would check it.
- ``accounts.services`` (changes, keyword-only, audited) and ``accounts.selectors`` (reads).
"""
