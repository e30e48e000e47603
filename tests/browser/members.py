"""An admin changing who is on a subaccount, through the members page in Chromium: what the
browser tests of live membership changes do to the other member's open pages."""

from __future__ import annotations

import re

from tests.authenticator import authenticator_code

ADMIN_KEY = "3132333435363738393031323334353637383930"

# Run in the dashboard's shell before a test signs the admin in: the demo admin's authenticator
# key is known, and a code used by an earlier test of the module may be used again.
ADMIN_AUTHENTICATOR = f"""
from django_otp.plugins.otp_totp.models import TOTPDevice
TOTPDevice.objects.filter(user__username="admin").update(key={ADMIN_KEY!r}, last_t=-1)
"""


def admin_on_members_page(page, server, subaccount_pk: str) -> None:
    """Sign the demo admin in (password and authenticator) onto the subaccount's members page."""
    path = f"/accounts/subaccounts/{subaccount_pk}/members/"
    page.goto(f"{server.url}/accounts/login/?next={path}")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "admin-demo-password")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/login/verify/"))
    page.fill("#id_code", authenticator_code(bytes.fromhex(ADMIN_KEY)))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(re.escape(path) + "$"))


def members_page(page, server, subaccount_pk: str) -> None:
    """The admin, signed in already, goes to another subaccount's members page."""
    path = f"/accounts/subaccounts/{subaccount_pk}/members/"
    page.goto(f"{server.url}{path}")
    page.locator("#member-form").wait_for()


def remove_member(page, username: str) -> None:
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f'tr[data-member="{username}"] button').click()
    page.locator("#members .messages").wait_for()
    assert "Member removed." in page.locator("#members .messages").inner_text()
    assert page.locator(f'tr[data-member="{username}"]').count() == 0


def set_role(page, username: str, role: str) -> None:
    """Add `username` with `role` ("viewer", "trader"), or change the role they have."""
    page.fill("#id_username", username)
    page.select_option("#id_role", role)
    page.click("#member-form button[type=submit]")
    said = page.locator("#members .messages", has_text=f"{username} is now {role} here.")
    said.wait_for()
