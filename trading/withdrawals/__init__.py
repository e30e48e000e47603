"""Withdrawals under policy: `services` (request, approve, reject, send) and `selectors`."""
