"""Edith signs in with her email address alone: the demo's "Email me a code" sends a message
through a real SMTP server (running in the test), and she types the code from it, or opens its
link in another browser."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, expect

from tests.mail import code_of, link_of
from tests.servers import Server
from tests.smtp_server import SmtpSink

pytestmark = pytest.mark.browser

EDITH = "edith@example.com"


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def server(tmp_path: Path, sink: SmtpSink) -> Iterator[Server]:
    # Development's own providers (email among them), sending through the sink, not to the
    # development mailbox.
    smtp_url = f"smtp://127.0.0.1:{sink.port}"
    server = Server(tmp_path, default_providers=True, environment={"SIGNET_SMTP_URL": smtp_url})
    yield server
    server.stop()


@pytest.fixture
def script_errors(page: Page) -> list[str]:
    """What went wrong in the page's own script. Chromium also logs every answer that is not
    2xx ("Failed to load resource": /auth/me's 401 while signed out, a rejected code); those
    are the API speaking, and the tests check what the page makes of them."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def on_page_error(error: Error) -> None:
        errors.append(str(error))

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    return errors


def ask_for_a_code(page: Page, email: str) -> None:
    page.goto("/")
    page.click("#id_login")
    page.fill("#id_code_email", email)
    page.click("#id_send_code")
    # 202 came back, so the SMTP server has accepted the message by now.
    expect(page.locator("#id_code_form")).to_be_visible()


def test_edith_signs_in_with_the_code_from_her_email(
    page: Page, sink: SmtpSink, script_errors: list[str]
) -> None:
    # Edith opens the demo, chooses to sign in, and asks for a code by email.
    ask_for_a_code(page, EDITH)

    # The page says where the code went, and that the link in the message works too.
    sent = page.locator("#id_code_sent")
    expect(sent).to_contain_text(f"We sent a code to {EDITH}")
    expect(sent).to_contain_text("the link in the same message")
    expect(page.locator("#id_code_form")).to_contain_text("/dev-idp/mailbox")

    # One message reached the mail server, for her.
    assert sink.recipients == [[EDITH]]

    # She types the code from it, and the navbar greets her.
    page.fill("#id_code", code_of(sink.messages[0]))
    page.click("#id_verify_code")
    expect(page.locator("nav")).to_contain_text(f"Signed in as {EDITH}")
    expect(page.locator("#id_code_form")).to_be_hidden()

    # She reloads: the server still knows her.
    page.reload()
    expect(page.locator("nav")).to_contain_text(f"Signed in as {EDITH}")
    assert script_errors == []


def test_the_link_signs_in_the_browser_that_opens_it_only_when_asked(
    page: Page, browser: Browser, server: Server, sink: SmtpSink, script_errors: list[str]
) -> None:
    # Edith asks for a code on her laptop, then reads the message on her phone.
    ask_for_a_code(page, EDITH)
    link = link_of(sink.messages[0])
    phone = browser.new_context(base_url=server.url)
    phone.set_default_timeout(10_000)
    try:
        # Her mail provider's scanner opens the link first, twice: that uses up nothing.
        for _ in range(2):
            scanned = phone.request.get(link)
            assert scanned.status == 200
            assert EDITH in scanned.text()

        # She opens it herself: the page names her address and asks before signing in.
        on_phone = phone.new_page()
        on_phone.goto(link)
        expect(on_phone.locator("body")).to_contain_text(f"Sign in as {EDITH}?")
        assert phone.request.get("/auth/me").status == 401

        # She presses "Sign in" and lands on the demo, signed in.
        on_phone.get_by_role("button", name="Sign in").click()
        expect(on_phone.locator("nav")).to_contain_text(f"Signed in as {EDITH}")
        assert on_phone.url == f"{server.url}/"
        assert phone.request.get("/auth/me").json()["email"] == EDITH
    finally:
        phone.close()

    # The laptop, which only asked for the code, is not signed in by the phone's link.
    page.reload()
    expect(page.locator("#id_login")).to_be_visible()
    assert script_errors == []


def test_wrong_codes_are_explained_and_the_right_one_still_works(
    page: Page, sink: SmtpSink, script_errors: list[str]
) -> None:
    # Edith asks for a code and mistypes it, four times (the fifth wrong one would burn it).
    ask_for_a_code(page, EDITH)
    code = code_of(sink.messages[0])
    for typo in range(1, 5):
        page.fill("#id_code", f"{(int(code) + typo) % 1_000_000:06d}")
        with page.expect_response("**/auth/email/verify") as answer:
            page.click("#id_verify_code")
        assert answer.value.status == 401

        # The page says why, in the problem's own words, and she is still signed out.
        expect(page.locator("#id_error")).to_have_text(
            "This code or link is wrong, has expired or was used already; ask for a new one."
        )
        expect(page.locator("#id_login")).to_be_visible()

    # She types the right one and is signed in.
    page.fill("#id_code", code)
    page.click("#id_verify_code")
    expect(page.locator("nav")).to_contain_text(f"Signed in as {EDITH}")
    expect(page.locator("#id_error")).to_be_hidden()
    assert script_errors == []


def test_the_demo_says_how_its_two_email_boxes_differ(page: Page) -> None:
    # Edith chooses to sign in: two boxes ask for an email address, each saying what it does.
    page.goto("/")
    page.click("#id_login")

    code_form = page.get_by_role("form", name="Email me a code")
    anyone_form = page.get_by_role("form", name="Sign in as anyone development only")
    expect(code_form).to_contain_text("emails a one-time code")
    expect(anyone_form).to_contain_text("no email is sent")
    expect(page.get_by_label("Your email address")).to_be_focused()
    expect(page.get_by_label("Address to sign in as")).to_be_visible()
    screens = os.environ.get("SIGNET_TEST_SCREENSHOTS")
    if screens:
        page.screenshot(path=f"{screens}/demo-sign-in.png", full_page=True)
