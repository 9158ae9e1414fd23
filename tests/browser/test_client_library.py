"""An SPA on another allowed origin talks to Signet through /auth/client.js alone, in Chromium,
with the cookie transport: an emailed code, sessions, signing out (everywhere too), the redirect
flow back to the SPA, and a refusal told apart from being signed out."""

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.spa import EDITH, Spa, changes, refusal, session_cookies, sign_in_with_assertion
from tests.mail import code_of
from tests.servers import Server
from tests.smtp_server import SmtpSink

pytestmark = pytest.mark.browser


@pytest.fixture
def server(spa_server: Server) -> Server:
    """Signet with the SPA's origin allowed, and its mail to `spa_mail` (conftest.py)."""
    return spa_server


def test_with_cookies_an_spa_signs_in_by_email_and_manages_its_sessions(
    page: Page, browser: Browser, spa: Spa, server: Server, spa_mail: SmtpSink
) -> None:
    spa.open(page)

    # Signed out: me() is null, and the listener hears so once.
    assert page.evaluate("() => signet.me()") is None
    assert changes(page) == [None]
    listed = page.evaluate("() => signet.providers()")
    assert {provider["kind"] for provider in listed} == {"oidc", "persona", "email"}

    # Edith asks for a code.
    sent = page.evaluate("(email) => signet.email.start(email)", EDITH)
    assert sent["email"] == EDITH
    assert sent["expires_in"] > 0
    code = code_of(spa_mail.messages[0])

    # A wrong code is a SignetError carrying the problem's fields; she is still signed out.
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    thrown = refusal(page, "signet.email.verify(arg[0], arg[1])", [EDITH, wrong])
    assert thrown is not None
    assert (thrown["name"], thrown["signetError"]) == ("SignetError", True)
    assert thrown["type"] == "urn:signet:problem:code-rejected"
    assert (thrown["status"], thrown["title"]) == (401, "Code rejected")
    assert "ask for a new one" in thrown["detail"]
    assert thrown["message"] == thrown["detail"]
    assert changes(page) == [None]

    # The right code signs her in, with the cookie Signet sets on its own origin.
    user = page.evaluate("(arg) => signet.email.verify(arg[0], arg[1])", [EDITH, code])
    assert user["email"] == EDITH
    assert changes(page) == [None, EDITH]
    assert page.evaluate("() => signet.me()")["email"] == EDITH
    assert session_cookies(page, server)
    assert page.evaluate("() => signet.accessToken()") is None

    # Her phone signs in too; from the SPA she sees both sessions, and ends the phone's.
    phone = browser.new_context()
    try:
        phone_page = phone.new_page()
        spa.open(phone_page)
        sign_in_with_assertion(phone_page, server)
        sessions = page.evaluate("() => signet.sessions.list()")
        assert [(each["current"], each["kind"]) for each in sessions] == [
            (False, "cookie"),
            (True, "cookie"),
        ]
        other = next(each["id"] for each in sessions if not each["current"])
        assert page.evaluate("(id) => signet.sessions.end(id)", other) is None
        assert len(page.evaluate("() => signet.sessions.list()")) == 1
        assert phone_page.evaluate("() => signet.me()") is None
    finally:
        phone.close()

    # She signs out: Signet forgets the session, and the listener hears it.
    assert page.evaluate("() => signet.signOut()") is None
    assert changes(page) == [None, EDITH, None]
    assert page.evaluate("() => signet.me()") is None
    # Signed out, her sessions are not hers to list: a 401 problem.
    assert refusal(page, "signet.sessions.list()")["status"] == 401  # type: ignore[index]


def test_signing_out_everywhere_ends_every_session_of_hers(
    page: Page, browser: Browser, spa: Spa, server: Server
) -> None:
    spa.open(page)
    sign_in_with_assertion(page, server)
    laptop = browser.new_context()
    try:
        laptop_page = laptop.new_page()
        spa.open(laptop_page)
        sign_in_with_assertion(laptop_page, server)

        assert page.evaluate("() => signet.signOutEverywhere()") is None

        assert changes(page) == [EDITH, None]
        assert page.evaluate("() => signet.me()") is None
        assert laptop_page.evaluate("() => signet.me()") is None
        # The laptop's client found out by asking, and told its listener.
        assert changes(laptop_page) == [EDITH, None]
    finally:
        laptop.close()


def test_the_redirect_flow_comes_back_to_the_spa_signed_in(
    page: Page, spa: Spa, server: Server
) -> None:
    spa.open(page, "/reports?tab=2")

    page.evaluate("() => signet.signInWith('dev')")
    expect(page.locator("h1")).to_have_text("Dev identity provider")
    page.fill("#email", EDITH)
    page.click("button[type=submit]")

    # Back where she started (this page's URL, by default), signed in.
    page.wait_for_url(f"{spa.url}/reports?tab=2")
    spa.open(page, "/reports?tab=2")
    assert page.evaluate("() => signet.me()")["email"] == EDITH

    # Elsewhere on request: the provider given as an object from providers(), too.
    page.evaluate("() => signet.signOut()")
    page.evaluate(
        """async (back) => {
            const dev = (await signet.providers()).find((each) => each.name === "dev");
            signet.signInWith(dev, { returnTo: back });
        }""",
        f"{spa.url}/welcome",
    )
    page.fill("#email", EDITH)
    page.click("button[type=submit]")
    page.wait_for_url(f"{spa.url}/welcome")


def test_a_refusal_of_a_signed_in_user_is_thrown_not_taken_for_signed_out(
    page: Page, spa: Spa, server: Server
) -> None:
    spa.open(page)
    sign_in_with_assertion(page, server)
    # Signet's policy no longer lets her in (403); as Signet answers, CORS headers and all.
    problem = {
        "type": "urn:signet:problem:not-allowed",
        "title": "Not allowed",
        "status": 403,
        "detail": "This site does not let this account in.",
    }
    page.route(
        f"{server.url}/auth/me",
        lambda route: route.fulfill(
            status=403,
            json=problem,
            content_type="application/problem+json",
            headers={
                "Access-Control-Allow-Origin": spa.url,
                "Access-Control-Allow-Credentials": "true",
            },
        ),
    )

    thrown = refusal(page, "signet.me()")

    assert thrown is not None
    assert {key: thrown[key] for key in problem} == problem
    assert thrown["signetError"] is True
    assert changes(page) == [EDITH]  # not taken for a sign-out
