"""The client with bearer tokens (a cross-site SPA's transport) and across tabs: tokens kept in
memory alone, the token endpoints, signInWith refused; sign-ins and sign-outs heard by the
other tabs through BroadcastChannel."""

import httpx
import pytest
from playwright.sync_api import Page

from tests.browser.spa import EDITH, Spa, changes, refusal, session_cookies, sign_in_with_assertion
from tests.mail import code_of
from tests.servers import Server
from tests.smtp_server import SmtpSink

pytestmark = pytest.mark.browser


@pytest.fixture
def server(spa_server: Server) -> Server:
    """Signet with the SPA's origin allowed, and its mail to `spa_mail` (conftest.py)."""
    return spa_server


def test_with_bearer_tokens_nothing_is_kept_in_cookies(
    page: Page, spa: Spa, server: Server, spa_mail: SmtpSink
) -> None:
    spa.open(page, transport="bearer")
    assert page.evaluate("() => signet.me()") is None

    # The emailed code is exchanged for a token, kept in the client's memory alone.
    page.evaluate("(email) => signet.email.start(email)", EDITH)
    with page.expect_request("**/auth/email/token"):
        user = page.evaluate(
            "(arg) => signet.email.verify(arg[0], arg[1])", [EDITH, code_of(spa_mail.messages[0])]
        )
    assert user["email"] == EDITH
    token = page.evaluate("() => signet.accessToken()")
    assert token
    assert session_cookies(page, server) == []
    # The app's own backend would take the token as Signet does.
    as_bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{server.url}/auth/me", headers=as_bearer).json()["email"] == EDITH
    (session,) = page.evaluate("() => signet.sessions.list()")
    assert (session["kind"], session["current"]) == ("bearer", True)

    # An assertion also goes to the token endpoint; the token it replaces is ended, as Signet
    # replaces a session cookie.
    with page.expect_request("**/auth/token"):
        sign_in_with_assertion(page, server)
    assert httpx.get(f"{server.url}/auth/me", headers=as_bearer).status_code == 401
    token = page.evaluate("() => signet.accessToken()")
    as_bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{server.url}/auth/me", headers=as_bearer).status_code == 200

    # A redirect cannot hand a token over: signInWith refuses, and stays on the page.
    thrown = refusal(page, "signet.signInWith('dev')")
    assert thrown is not None
    assert thrown["signetError"] is True
    assert thrown["type"] == "urn:signet:client:redirect-needs-cookies"
    assert page.url.startswith(spa.url)

    # Signing out forgets the token, and Signet ends its session.
    page.evaluate("() => signet.signOut()")
    assert page.evaluate("() => signet.accessToken()") is None
    assert page.evaluate("() => signet.me()") is None
    assert httpx.get(f"{server.url}/auth/me", headers=as_bearer).status_code == 401


def test_tabs_hear_each_others_sign_ins_and_sign_outs(page: Page, spa: Spa, server: Server) -> None:
    # Two tabs of the SPA in one browser: they share Signet's cookie.
    spa.open(page)
    other_tab = page.context.new_page()
    spa.open(other_tab)
    assert other_tab.evaluate("() => signet.me()") is None

    sign_in_with_assertion(page, server)
    other_tab.wait_for_function(f"() => changes.at(-1) === {EDITH!r}")
    assert changes(other_tab) == [None, EDITH]

    page.evaluate("() => signet.signOut()")
    other_tab.wait_for_function("() => changes.at(-1) === null")
    assert changes(other_tab) == [None, EDITH, None]
    # A listener that stopped hears nothing more.
    other_tab.evaluate(
        """() => {
            window.heard = [];
            const stop = signet.onChange((user) => heard.push(user && user.email));
            stop();
        }"""
    )
    sign_in_with_assertion(page, server)
    other_tab.wait_for_function(f"() => changes.at(-1) === {EDITH!r}")
    assert other_tab.evaluate("() => heard") == []


def test_bearer_tabs_keep_their_own_tokens_until_she_signs_out_everywhere(
    page: Page, spa: Spa, server: Server
) -> None:
    spa.open(page, transport="bearer")
    other_tab = page.context.new_page()
    spa.open(other_tab, transport="bearer")
    sign_in_with_assertion(page, server)

    # The other tab heard, asked, and is still signed out: the token is the first tab's alone.
    other_tab.wait_for_function("() => changes.length === 1")
    assert changes(other_tab) == [None]

    sign_in_with_assertion(other_tab, server)
    page.evaluate("() => signet.signOut()")  # this tab's session alone
    assert other_tab.evaluate("() => signet.me()")["email"] == EDITH

    sign_in_with_assertion(page, server)
    page.evaluate("() => signet.signOutEverywhere()")
    other_tab.wait_for_function("() => changes.at(-1) === null")
    assert other_tab.evaluate("() => signet.accessToken()") is None
