"""Edith meets the sign-in page in Chromium, without JavaScript: it names the site, offers each
provider and the email form, says what went wrong in words, works from the keyboard, and asks
nothing of any other origin.

Each test saves screenshots in a temporary folder (SIGNET_TEST_SCREENSHOTS=<folder> keeps them
where a person can look at them) and prints where."""

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from api.web.sign_in_html import SIGN_IN_ERRORS, UNKNOWN_SIGN_IN_ERROR
from tests.servers import Server

pytestmark = pytest.mark.browser

SITE = "Edith's Reports"
EDITH = "edith@example.com"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    # Development's own providers: the dev redirect flow, Persona (no button) and email.
    server = Server(tmp_path, default_providers=True, environment={"SIGNET_SITE_NAME": SITE})
    yield server
    server.stop()


@pytest.fixture
def screens(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SIGNET_TEST_SCREENSHOTS") or tmp_path / "screens")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots in {folder}")
    return folder


@pytest.fixture
def no_js(browser: Browser, server: Server) -> Iterator[Page]:
    """A page with JavaScript off, as the sign-in page is meant to work."""
    context = browser.new_context(base_url=server.url, java_script_enabled=False)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def requests_made(no_js: Page) -> list[str]:
    """Every URL the page asked for, the icon and styles included."""
    urls: list[str] = []
    no_js.on("request", lambda request: urls.append(request.url))
    return urls


@pytest.fixture
def console_errors(no_js: Page) -> list[str]:
    """Errors Chromium logs: a style or image the policy refused would be one."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    no_js.on("console", on_console)
    return errors


def same_origin(urls: list[str], server: Server) -> list[str]:
    """The URLs that went anywhere but the server (data: URIs load nothing)."""
    origin = urlsplit(server.url)
    return [
        url
        for url in urls
        if not url.startswith("data:") and urlsplit(url)[:2] != (origin.scheme, origin.netloc)
    ]


def test_the_page_names_the_site_and_offers_each_way_in(
    no_js: Page,
    server: Server,
    screens: Path,
    requests_made: list[str],
    console_errors: list[str],
) -> None:
    no_js.goto("/auth/sign-in")
    no_js.screenshot(path=screens / "sign-in.png", full_page=True)
    no_js.set_viewport_size({"width": 360, "height": 740})
    no_js.screenshot(path=screens / "sign-in-narrow.png", full_page=True)

    expect(no_js).to_have_title(f"Sign in · {SITE}")
    expect(no_js.locator("header")).to_have_text(SITE)
    expect(no_js.get_by_role("heading", level=1)).to_have_text(f"Sign in to {SITE}")
    expect(no_js.get_by_role("link", name="Sign in with Dev")).to_be_visible()
    expect(no_js.get_by_label("Email address")).to_be_visible()
    expect(no_js.get_by_role("button", name="Email me a code")).to_be_visible()
    expect(no_js.get_by_role("alert")).to_have_count(0)
    # The styles applied: the policy allowed the page's own (a refusal would be logged).
    button = no_js.get_by_role("button", name="Email me a code")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(47, 91, 211)"
    # Nothing spills sideways on a phone.
    assert no_js.evaluate("document.documentElement.scrollWidth <= innerWidth")
    assert console_errors == []
    assert requests_made
    assert same_origin(requests_made, server) == []


def test_each_failed_flow_is_said_in_words_to_screen_readers_too(
    no_js: Page, screens: Path
) -> None:
    for code, words in [*SIGN_IN_ERRORS.items(), ("<b>made-up</b>", UNKNOWN_SIGN_IN_ERROR)]:
        no_js.goto(f"/auth/sign-in?signet_error={code}")

        expect(no_js.get_by_role("alert")).to_have_text(words)
        expect(no_js.get_by_role("link", name="Sign in with Dev")).to_be_visible()
        assert code not in no_js.content()
    no_js.goto("/auth/sign-in?signet_error=provider_unavailable")
    no_js.screenshot(path=screens / "sign-in-error.png", full_page=True)


def test_the_keyboard_reaches_every_way_in_in_order(no_js: Page, screens: Path) -> None:
    no_js.goto("/auth/sign-in")
    reached = []
    for _ in range(3):
        no_js.keyboard.press("Tab")
        reached.append(
            no_js.evaluate("document.activeElement.textContent || document.activeElement.id")
        )
    no_js.screenshot(path=screens / "sign-in-keyboard.png", full_page=True)

    assert reached == ["Sign in with Dev", "email", "Email me a code"]
    # Typing an address and pressing Enter asks for the code.
    no_js.keyboard.press("Shift+Tab")
    no_js.keyboard.type(EDITH)
    no_js.keyboard.press("Enter")
    expect(no_js.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(no_js.get_by_label("Code")).to_be_focused()
    no_js.screenshot(path=screens / "check-your-email.png", full_page=True)


def test_without_javascript_edith_signs_in_sees_who_she_is_and_signs_out(
    no_js: Page, server: Server, screens: Path, requests_made: list[str]
) -> None:
    # Edith chooses the provider and tells it who she is.
    no_js.goto("/auth/sign-in")
    no_js.get_by_role("link", name="Sign in with Dev").click()
    no_js.fill("#email", EDITH)
    no_js.click("button[type=submit]")

    # She is back on the sign-in page, which says she is signed in.
    assert urlsplit(no_js.url).path == "/auth/sign-in"
    expect(no_js.get_by_role("status")).to_have_text(f"You are signed in as {EDITH}.")
    expect(no_js.get_by_role("heading", level=1)).to_have_text(f"Signed in to {SITE}")
    no_js.screenshot(path=screens / "signed-in.png", full_page=True)

    # She signs out from the same page, and is offered the ways in again.
    no_js.get_by_role("button", name="Sign out").click()
    expect(no_js.get_by_role("link", name="Sign in with Dev")).to_be_visible()
    assert no_js.context.request.get(f"{server.url}/auth/me").status == 401
    # The dev provider's page is on the same server; nothing went elsewhere.
    assert same_origin(requests_made, server) == []


def test_the_development_mailbox_fits_a_phone(no_js: Page, screens: Path) -> None:
    no_js.set_viewport_size({"width": 360, "height": 740})
    no_js.goto("/auth/sign-in")
    no_js.get_by_label("Email address").fill(EDITH)
    no_js.get_by_role("button", name="Email me a code").click()
    no_js.goto("/dev-idp/mailbox")
    no_js.screenshot(path=screens / "mailbox-narrow.png", full_page=True)

    expect(no_js.get_by_role("link").first).to_be_visible()
    assert no_js.evaluate("document.documentElement.scrollWidth <= innerWidth")
