from __future__ import annotations

import re

import pytest

from tests import services

pytestmark = pytest.mark.browser


def test_member_signs_in_and_sees_the_live_overview(dashboard_server, page):
    dashboard_server.create_user("erin", "a long demo password 1")

    page.goto(dashboard_server.url + "/")
    page.fill("#id_username", "erin")
    page.fill("#id_password", "a long demo password 1")
    page.click("button[type=submit]")

    page.wait_for_url(re.compile(r"/$"))
    assert page.locator("h1").inner_text() == "Overview"
    assert "Signed in as erin" in page.locator("main").inner_text()
    page.locator("#live-status.is-live").wait_for()
    page.screenshot(path=str(services.output_dir() / "home.png"), full_page=True)


def test_wrong_password_keeps_the_visitor_out(dashboard_server, page):
    page.goto(dashboard_server.url + "/")
    page.fill("#id_username", "erin")
    page.fill("#id_password", "not the password")
    page.click("button[type=submit]")

    assert (
        "Please enter a correct username and password" in page.locator(".form-error").inner_text()
    )
    assert "/accounts/login/" in page.url


def test_the_theme_switch_is_remembered_for_the_user_in_another_browser(dashboard_server, chromium):
    dashboard_server.create_user("flo", "a long demo password 2")
    browsers = [chromium.new_context(), chromium.new_context()]
    try:
        first, second = (context.new_page() for context in browsers)
        for page in (first, second):
            page.goto(dashboard_server.url + "/")
            page.fill("#id_username", "flo")
            page.fill("#id_password", "a long demo password 2")
            page.click("button[type=submit]")
            page.wait_for_url(re.compile(r"/$"))
        assert first.locator("html").get_attribute("data-theme") == "light"

        with first.expect_response("**/accounts/theme/"):
            first.click("[data-theme-toggle]")
        second.reload()

        assert first.locator("html").get_attribute("data-theme") == "dark"
        assert second.locator("html").get_attribute("data-theme") == "dark"
    finally:
        for context in browsers:
            context.close()
