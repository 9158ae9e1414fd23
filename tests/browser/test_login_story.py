"""Edith signs in to the demo app in a real browser, and the server remembers her."""

import os

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.servers import Server

pytestmark = pytest.mark.browser


def sign_in(page: Page, email: str) -> None:
    page.click("#id_login")
    page.fill("#id_email", email)
    page.click("#id_continue")


def test_edith_signs_in_stays_signed_in_and_signs_out(page: Page) -> None:
    # Edith opens the site. Nobody is logged in, so she is offered "Sign in".
    page.goto("/")
    expect(page.locator("#id_login")).to_be_visible()
    expect(page.locator("#id_logout")).to_be_hidden()

    # She signs in as edith@example.com and the navbar greets her.
    sign_in(page, "edith@example.com")
    expect(page.locator("nav")).to_contain_text("Signed in as edith@example.com")
    expect(page.locator("#id_logout")).to_be_visible()
    expect(page.locator("#id_login")).to_be_hidden()

    # She reloads: the page asks the server, and the server still knows her.
    page.reload()
    expect(page.locator("nav")).to_contain_text("Signed in as edith@example.com")

    # She logs out, and the page offers "Sign in" again.
    page.click("#id_logout")
    expect(page.locator("#id_login")).to_be_visible()
    expect(page.locator("nav")).not_to_contain_text("Signed in as")

    # She reloads: the server has forgotten her too.
    page.reload()
    expect(page.locator("#id_login")).to_be_visible()
    expect(page.locator("nav")).not_to_contain_text("Signed in as")


def test_a_rejected_assertion_shows_an_error_and_leaves_edith_signed_out(page: Page) -> None:
    # The identity provider hands the page an assertion that the verifier will not vouch for.
    def forged_assertion(route: Route) -> None:
        route.fulfill(json={"assertion": "forged"})

    page.route("**/dev-idp/assertions", forged_assertion)
    page.goto("/")

    # Edith tries to sign in and is told why it did not work.
    sign_in(page, "edith@example.com")
    expect(page.locator("#id_error")).to_have_text(
        "The identity provider did not vouch for this assertion."
    )

    # She is still signed out, also after a reload.
    expect(page.locator("#id_login")).to_be_visible()
    page.reload()
    expect(page.locator("#id_login")).to_be_visible()
    expect(page.locator("nav")).not_to_contain_text("Signed in as")


def test_edith_ends_her_other_session_from_the_list(
    page: Page, browser: Browser, server: Server
) -> None:
    # Edith is signed in on another device, then here.
    other = browser.new_context(base_url=server.url)
    other_page = other.new_page()
    other_page.goto("/")
    sign_in(other_page, "edith@example.com")
    expect(other_page.locator("nav")).to_contain_text("Signed in as edith@example.com")
    page.goto("/")
    sign_in(page, "edith@example.com")

    # The page lists both sessions, by device in words and when; she ends the other one.
    sessions = page.locator("#id_sessions li")
    expect(sessions).to_have_count(2)
    expect(page.locator("#id_sessions")).to_contain_text("this one")
    expect(sessions.locator(".device")).to_have_text(["Chrome on Linux", "Chrome on Linux"])
    expect(sessions.first).to_contain_text("last seen")
    assert "Mozilla/5.0" not in page.inner_text("#id_sessions")
    screens = os.environ.get("SIGNET_TEST_SCREENSHOTS")
    if screens:
        page.screenshot(path=f"{screens}/demo-sessions.png", full_page=True)
    page.get_by_role("button", name="End the session on Chrome on Linux").click()
    expect(sessions).to_have_count(1)

    # The other device is signed out on its next look.
    other_page.reload()
    expect(other_page.locator("#id_login")).to_be_visible()
    other.close()
