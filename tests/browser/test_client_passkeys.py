"""An SPA on another allowed origin adds, uses, renames and removes a passkey through
/auth/client.js in Chromium (a virtual authenticator), with cookies and with bearer tokens, with
and without the browser's WebAuthn JSON methods."""

import pytest
from playwright.sync_api import Page

from tests.browser.authenticators import Authenticator
from tests.browser.spa import EDITH, Spa, changes, refusal, sign_in_with_assertion
from tests.servers import Server

pytestmark = pytest.mark.browser


@pytest.fixture
def server(spa_server: Server) -> Server:
    """Signet with the SPA's origin allowed, and its mail to `spa_mail` (conftest.py)."""
    return spa_server


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

    # Or from the autofill of the SPA's username field (conditional mediation; the virtual
    # device picks her passkey at once). Given up (its signal aborted), it is not Signet's error.
    page.evaluate("() => signet.signOut()")
    given_up = "signet.passkeys.signIn({ conditional: true, signal: AbortSignal.abort() })"
    aborted = refusal(page, given_up)
    assert aborted is not None
    assert (aborted["name"], aborted["signetError"]) == ("AbortError", False)
    assert page.evaluate("() => signet.me()") is None
    user = page.evaluate("() => signet.passkeys.signIn({ conditional: true })")
    assert user["email"] == EDITH
    assert changes(page) == [EDITH, None, EDITH, None, EDITH]

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
