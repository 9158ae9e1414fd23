"""An SPA on another allowed origin talks to Signet through /auth/client.js alone, in Chromium:
every function of the client, with the cookie transport and with bearer tokens, passkeys by a
virtual authenticator, sign-ins and sign-outs heard across tabs."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.authenticators import Authenticator
from tests.browser.spa import Spa, refusal
from tests.mail import code_of
from tests.servers import Server
from tests.smtp_server import SmtpSink

pytestmark = pytest.mark.browser

EDITH = "edith@example.com"


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def spa() -> Iterator[Spa]:
    spa = Spa()
    yield spa
    spa.stop()


@pytest.fixture
def server(tmp_path: Path, spa: Spa, sink: SmtpSink) -> Iterator[Server]:
    # Development's providers (dev's redirect flow, Persona, email), mail to the sink, and the
    # SPA's origin allowed: CORS with credentials, its state changes, passkeys (same RP ID).
    environment = {
        "SIGNET_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
        "SIGNET_ALLOWED_ORIGINS": spa.url,
    }
    server = Server(tmp_path, default_providers=True, environment=environment)
    spa.signet = server.url
    yield server
    server.stop()


def assertion_for(server: Server, email: str) -> str:
    """What an identity provider's script would hand the SPA (here the development one's)."""
    answer = httpx.post(f"{server.url}/dev-idp/assertions", json={"email": email})
    assertion: str = answer.raise_for_status().json()["assertion"]
    return assertion


def sign_in_with_assertion(page: Page, server: Server, email: str = EDITH) -> Any:
    return page.evaluate(
        "(assertion) => signet.signInWithAssertion(assertion, { provider: 'persona' })",
        assertion_for(server, email),
    )


def changes(page: Page) -> list[str | None]:
    seen: list[str | None] = page.evaluate("() => changes")
    return seen


def session_cookies(page: Page, server: Server) -> list[str]:
    return [cookie["name"] for cookie in page.context.cookies(server.url)]


def test_with_cookies_an_spa_signs_in_by_email_and_manages_its_sessions(
    page: Page, browser: Browser, spa: Spa, server: Server, sink: SmtpSink
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
    code = code_of(sink.messages[0])

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


@pytest.mark.parametrize("transport", ["cookie", "bearer"])
@pytest.mark.parametrize("browser_json", ["native", "fallback"])
def test_passkeys_from_an_spa_elsewhere(
    page: Page, spa: Spa, server: Server, transport: str, browser_json: str
) -> None:
    if browser_json == "fallback":
        # A browser without WebAuthn's JSON methods: the client converts by hand.
        page.add_init_script(
            """delete PublicKeyCredential.parseCreationOptionsFromJSON;
            delete PublicKeyCredential.parseRequestOptionsFromJSON;
            delete PublicKeyCredential.prototype.toJSON;"""
        )
    spa.open(page, transport=transport)
    authenticator = Authenticator(page)
    if browser_json == "fallback":
        assert page.evaluate("() => 'toJSON' in PublicKeyCredential.prototype") is False
    sign_in_with_assertion(page, server)

    # Edith adds a passkey from the SPA; her device holds it, Signet lists it.
    passkey = page.evaluate("() => signet.passkeys.register({ name: 'Laptop' })")
    assert passkey["name"] == "Laptop"
    assert passkey["last_used"] is None
    assert len(authenticator.credentials()) == 1
    assert [each["id"] for each in page.evaluate("() => signet.passkeys.list()")] == [passkey["id"]]

    # She signs out, and in again with the passkey alone.
    page.evaluate("() => signet.signOut()")
    assert page.evaluate("() => signet.me()") is None
    endpoint = "token" if transport == "bearer" else "authentication"
    with page.expect_request(f"**/auth/passkeys/{endpoint}"):
        user = page.evaluate("() => signet.passkeys.signIn()")
    assert user["email"] == EDITH
    assert changes(page) == [EDITH, None, EDITH]
    (listed,) = page.evaluate("() => signet.passkeys.list()")
    assert listed["last_used"] is not None

    # She renames it, then removes it: it no longer signs her in.
    renamed = page.evaluate("(id) => signet.passkeys.rename(id, 'Work laptop')", passkey["id"])
    assert renamed["name"] == "Work laptop"
    assert page.evaluate("() => signet.passkeys.list()")[0]["name"] == "Work laptop"
    assert page.evaluate("(id) => signet.passkeys.remove(id)", passkey["id"]) is None
    assert page.evaluate("() => signet.passkeys.list()") == []
    page.evaluate("() => signet.signOut()")
    thrown = refusal(page, "signet.passkeys.signIn()")
    assert thrown is not None
    assert thrown["signetError"] is True
    assert thrown["status"] == 401


def test_with_bearer_tokens_nothing_is_kept_in_cookies(
    page: Page, spa: Spa, server: Server, sink: SmtpSink
) -> None:
    spa.open(page, transport="bearer")
    assert page.evaluate("() => signet.me()") is None

    # The emailed code is exchanged for a token, kept in the client's memory alone.
    page.evaluate("(email) => signet.email.start(email)", EDITH)
    with page.expect_request("**/auth/email/token"):
        user = page.evaluate(
            "(arg) => signet.email.verify(arg[0], arg[1])", [EDITH, code_of(sink.messages[0])]
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
