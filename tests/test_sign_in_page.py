"""The sign-in page as HTML: the site's name, errors in words, who is signed in, signing out, the
icon, and a policy that lets the page load nothing from anywhere else.

Chromium's view of it is in tests/browser/test_sign_in_page.py."""

import base64
import hashlib
import re
import struct
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from api.config import Settings
from api.mail.outbox import Outbox
from api.web.sign_in_html import PASSKEY_SCRIPT, SIGN_IN_ERRORS, UNKNOWN_SIGN_IN_ERROR
from tests.apps import APP_ORIGIN, serving
from tests.mail import code_of
from tests.test_email_sign_in import EDITH, email_settings

SITE = "Tom & Jerry's <Reports>"


@pytest.fixture
async def client(
    settings: Settings, engine: AsyncEngine, outbox: Outbox
) -> AsyncIterator[httpx.AsyncClient]:
    named = email_settings(settings, site_name=SITE)
    async with serving(named, mailer=outbox) as client:
        # As a browser on the app's page says where a post comes from (Signet's forms need it).
        client.headers["Origin"] = APP_ORIGIN
        yield client


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


async def sign_in(client: httpx.AsyncClient, outbox: Outbox, return_to: str = "") -> None:
    await client.post("/auth/sign-in/email", data={"email": EDITH, "return_to": return_to})
    code = code_of(outbox.messages[-1])
    signed_in = await client.post("/auth/sign-in/email/code", data={"email": EDITH, "code": code})
    assert signed_in.status_code == 303


def alert_of(page: str) -> str:
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', page)
    assert found is not None, page
    return found[1]


async def test_the_page_names_the_site_escaped(client: httpx.AsyncClient) -> None:
    page = (await client.get("/auth/sign-in")).text

    escaped = "Tom &amp; Jerry&#x27;s &lt;Reports&gt;"
    assert f"<title>Sign in · {escaped}</title>" in page
    assert f"<header>{escaped}</header>" in page
    assert f"<h1>Sign in to {escaped}</h1>" in page
    assert SITE not in page


async def test_without_a_site_name_the_page_names_the_public_urls_host(
    settings: Settings, engine: AsyncEngine
) -> None:
    async with serving(email_settings(settings)) as client:
        page = (await client.get("/auth/sign-in")).text

    assert "<h1>Sign in to app.example</h1>" in page


@pytest.mark.parametrize(("code", "words"), sorted(SIGN_IN_ERRORS.items()))
async def test_each_failed_flow_is_said_in_words(
    client: httpx.AsyncClient, code: str, words: str
) -> None:
    page = await client.get("/auth/sign-in", params={"signet_error": code})

    assert page.status_code == 200
    assert alert_of(page.text) == words.replace("'", "&#x27;")
    assert code not in page.text  # the words, never the code
    assert 'action="/auth/sign-in/email"' in page.text  # and a way to try again


@pytest.mark.parametrize(
    "code", ["login_required", "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']
)
async def test_an_unknown_error_gets_the_generic_words_and_is_never_echoed(
    client: httpx.AsyncClient, code: str
) -> None:
    page = (await client.get("/auth/sign-in", params={"signet_error": code})).text

    assert alert_of(page) == UNKNOWN_SIGN_IN_ERROR
    assert code not in page
    assert scripts_of(page) == [PASSKEY_SCRIPT]  # the page's own, and nothing else
    assert "onerror" not in page


async def test_without_an_error_there_is_no_alert(client: httpx.AsyncClient) -> None:
    page = (await client.get("/auth/sign-in")).text

    assert 'role="alert"' not in page
    assert '<label for="email">Email address</label>' in page


async def test_without_a_return_to_signing_in_comes_back_to_say_who_is_signed_in(
    client: httpx.AsyncClient, outbox: Outbox
) -> None:
    form = (await client.get("/auth/sign-in")).text
    await sign_in(client, outbox)
    back = await client.get("/auth/sign-in")

    assert 'name="return_to" value="/auth/sign-in"' in form
    assert back.status_code == 200
    assert "You are signed in as <strong>edith@example.com</strong>." in back.text
    assert 'role="status"' in back.text
    assert '<form method="post" action="/auth/sign-in/logout">' in back.text
    assert "Continue" not in back.text
    assert back.headers["cache-control"] == "no-store"


async def test_signed_in_with_a_return_to_the_page_sends_the_browser_on(
    client: httpx.AsyncClient, outbox: Outbox
) -> None:
    await sign_in(client, outbox)
    onward = await client.get("/auth/sign-in", params={"return_to": "/reports"})
    failed = await client.get(
        "/auth/sign-in", params={"return_to": "/reports", "signet_error": "identity_in_use"}
    )

    assert onward.status_code == 303
    assert onward.headers["location"] == "/reports"
    # A failure (linking another account, say) is said, with a way on.
    assert failed.status_code == 200
    assert alert_of(failed.text) == SIGN_IN_ERRORS["identity_in_use"]
    assert '<a class="button primary" href="/reports">Continue</a>' in failed.text


async def test_the_sign_out_button_ends_the_session_and_shows_the_page_again(
    client: httpx.AsyncClient, outbox: Outbox
) -> None:
    await sign_in(client, outbox)
    signed_out = await client.post("/auth/sign-in/logout", data={"return_to": "/reports"})

    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/auth/sign-in?return_to=%2Freports"
    assert "max-age=0" in signed_out.headers["set-cookie"].lower()
    assert (await client.get("/auth/me")).status_code == 401
    page = await client.get(signed_out.headers["location"])
    assert page.status_code == 200
    assert 'name="return_to" value="/reports"' in page.text


async def test_the_sign_out_form_is_refused_from_another_site_or_nowhere(
    client: httpx.AsyncClient, outbox: Outbox
) -> None:
    await sign_in(client, outbox)
    forged = await client.post("/auth/sign-in/logout", headers={"Origin": "https://evil.example"})
    del client.headers["Origin"]
    unsaid = await client.post("/auth/sign-in/logout")  # any page could have sent it

    assert forged.status_code == 403
    assert unsaid.status_code == 403
    assert (await client.get("/auth/me")).status_code == 200


async def test_a_foreign_return_to_on_sign_out_still_signs_out_and_stays_here(
    client: httpx.AsyncClient, outbox: Outbox
) -> None:
    await sign_in(client, outbox)
    signed_out = await client.post(
        "/auth/sign-in/logout", data={"return_to": "https://evil.example/"}
    )

    assert signed_out.headers["location"] == "/auth/sign-in"
    assert (await client.get("/auth/me")).status_code == 401


def scripts_of(page: str) -> list[str]:
    return re.findall(r"<script[^>]*>(.*?)</script>", page, re.DOTALL)


def digest_of(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def policy_of(response: httpx.Response) -> dict[str, str]:
    return dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["content-security-policy"].split(";")
    )


async def test_the_policy_allows_the_pages_own_style_and_nothing_from_elsewhere(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/auth/sign-in", params={"signet_error": "access_denied"})

    policy = policy_of(response)
    (style,) = re.findall(r"<style>(.*?)</style>", response.text, re.DOTALL)
    assert policy["default-src"] == "'none'"
    assert policy["style-src"] == f"'sha256-{digest_of(style)}'"  # this style, no other
    assert policy["img-src"] == "data:"  # the inline icon
    assert policy["frame-ancestors"] == "'none'"
    # Passkeys are on: the one inline script by its hash, and the client it imports from here.
    (script,) = scripts_of(response.text)
    assert '<script type="module">' in response.text
    assert policy["script-src"] == f"'sha256-{digest_of(script)}' 'self'"
    assert policy["connect-src"] == "'self'"
    # Nothing in the page names another origin.
    assert not re.search(r'(src|href)="(https?:)?//', response.text)
    assert 'rel="icon" href="data:image/svg+xml,' in response.text


async def test_the_favicon_is_an_icon_cached_for_a_week(client: httpx.AsyncClient) -> None:
    response = await client.get("/favicon.ico")

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/x-icon"
    assert response.headers["cache-control"] == "public, max-age=604800"
    reserved, kind, count = struct.unpack("<HHH", response.content[:6])
    assert (reserved, kind, count) == (0, 1, 1)  # an ICO with one image
    assert response.content[6:8] == bytes([16, 16])


async def test_the_page_offers_passkeys_from_the_button_and_the_email_fields_autofill(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/auth/sign-in", params={"return_to": "/reports?x=1"})).text

    # Hidden until the script shows it: without scripts, the page offers what works.
    assert (
        '<button type="button" id="passkey" class="secondary" hidden '
        'data-return-to="/reports?x=1">Sign in with a passkey</button>'
    ) in page
    assert 'autocomplete="username webauthn"' in page


async def test_a_foreign_return_to_is_not_where_a_passkey_sign_in_goes(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/auth/sign-in", params={"return_to": "https://evil.example/"})

    assert response.status_code == 400
    assert "data-return-to" not in response.text


async def test_without_passkeys_the_page_has_no_script_and_no_script_may_run(
    settings: Settings, engine: AsyncEngine, outbox: Outbox
) -> None:
    named = email_settings(settings, passkeys=False)
    async with serving(named, mailer=outbox) as client:
        response = await client.get("/auth/sign-in")

    assert "<script" not in response.text
    assert 'id="passkey"' not in response.text
    assert 'autocomplete="email"' in response.text
    policy = policy_of(response)
    assert "script-src" not in policy
    assert "connect-src" not in policy
    assert policy["default-src"] == "'none'"
