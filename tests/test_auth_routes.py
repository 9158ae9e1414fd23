"""The HTTP contract of /auth, with the verifier replaced by a fake through dependency_overrides."""

import json
from collections.abc import Callable
from urllib.parse import urlencode

import httpx
import pytest
import respx
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from api.config import Settings
from api.store.tables import User
from api.store.users import get_user
from api.testing import FakeClock, FakeProvider
from tests.apps import VERIFIER_URL, persona_okay, serving
from tests.databases import count_rows

COOKIE = "__Host-signet_session"
# The name without the prefix: plain-HTTP and shared-domain cookies, and before the prefix.
BARE_COOKIE = "signet_session"
EDITH = "an assertion that proves edith@example.com"
EDITH_JSON = json.dumps({"assertion": EDITH}).encode()
EDITH_FORM = urlencode({"assertion": EDITH}).encode()


@pytest.fixture
def verifier(verifier: FakeProvider) -> FakeProvider:
    """The fake verifier from conftest, vouching for EDITH."""
    verifier.accept(EDITH, email="edith@example.com")
    return verifier


def set_cookie_attributes(response: httpx.Response, name: str = COOKIE) -> dict[str, str]:
    """The Set-Cookie header as a dict of lower-cased attribute names (value under 'value')."""
    header = response.headers["set-cookie"]
    name_value, *attributes = (part.strip() for part in header.split(";"))
    sent_name, _, value = name_value.partition("=")
    assert sent_name == name
    parsed = {"value": value}
    for attribute in attributes:
        key, _, attribute_value = attribute.partition("=")
        parsed[key.lower()] = attribute_value
    return parsed


async def login(client: httpx.AsyncClient, assertion: str) -> httpx.Response:
    return await client.post("/auth/login", json={"assertion": assertion})


async def test_login_sends_the_assertion_to_the_verifier_and_returns_the_user(
    client: httpx.AsyncClient, verifier: FakeProvider
) -> None:
    verifier.accept("assertion-for-edith", email="edith@example.com")

    response = await login(client, "assertion-for-edith")

    assert response.status_code == 200
    assert verifier.seen == ["assertion-for-edith"]
    assert response.json() == {
        "email": "edith@example.com",
        "created_at": "2026-01-01T12:00:00Z",
        "last_login": "2026-01-01T12:00:00Z",
        "email_verified": True,
        "groups": [],
    }


async def test_login_sets_a_secure_http_only_lax_session_cookie(
    client: httpx.AsyncClient, verifier: FakeProvider, settings: Settings
) -> None:
    response = await login(client, EDITH)

    cookie = set_cookie_attributes(response)
    assert cookie["value"]
    assert cookie["httponly"] == ""
    assert cookie["secure"] == ""
    assert cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/"
    assert cookie["max-age"] == str(settings.session_idle_timeout)
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.settings(cookie_secure=False)
async def test_cookie_is_not_secure_when_configured_for_plain_http(
    client: httpx.AsyncClient, verifier: FakeProvider
) -> None:
    response = await login(client, EDITH)

    assert "secure" not in set_cookie_attributes(response, name=BARE_COOKIE)  # no __Host- either


async def test_the_session_persists_across_requests(
    client: httpx.AsyncClient, verifier: FakeProvider
) -> None:
    await login(client, EDITH)

    first = await client.get("/auth/me")
    again = await client.get("/auth/me")

    assert first.status_code == again.status_code == 200
    assert again.json()["email"] == "edith@example.com"
    assert again.headers["cache-control"] == "no-store"


async def test_emails_are_normalised_before_they_key_a_user(
    client: httpx.AsyncClient, verifier: FakeProvider, db_session: AsyncSession
) -> None:
    verifier.accept("shouting", email="  Edith@EXAMPLE.com ")

    response = await login(client, "shouting")

    assert response.json()["email"] == "edith@example.com"
    assert await get_user(db=db_session, email="edith@example.com") is not None


async def test_returning_user_keeps_created_at_and_gets_a_new_last_login(
    client: httpx.AsyncClient, verifier: FakeProvider, clock: FakeClock
) -> None:
    first = (await login(client, EDITH)).json()
    clock.advance(3600)

    second = (await login(client, EDITH)).json()

    assert second["created_at"] == first["created_at"]
    assert second["last_login"] == "2026-01-01T13:00:00Z"


async def test_rejected_assertion_is_401_with_no_cookie_and_no_user(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    response = await login(client, "forged")

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:signet:problem:assertion-rejected"
    assert "set-cookie" not in response.headers
    assert await count_rows(db_session, User) == 0


async def test_rejection_does_not_touch_an_existing_user(
    client: httpx.AsyncClient, verifier: FakeProvider, clock: FakeClock, db_session: AsyncSession
) -> None:
    verifier.accept("good", email="edith@example.com")
    await login(client, "good")
    client.cookies.clear()
    clock.advance(60)

    response = await login(client, "forged")

    assert response.status_code == 401
    user = await get_user(db=db_session, email="edith@example.com")
    assert user is not None
    assert user.last_login == user.created_at


async def test_verifier_unavailable_is_503_with_retry_after_and_no_session(
    client: httpx.AsyncClient, verifier: FakeProvider, db_session: AsyncSession
) -> None:
    verifier.unavailable = True

    response = await login(client, EDITH)

    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["content-type"] == "application/problem+json"
    assert "set-cookie" not in response.headers
    assert await count_rows(db_session, User) == 0


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        pytest.param(
            "application/x-www-form-urlencoded",
            urlencode({"assertion": EDITH}).encode(),
            id="form post",
        ),
        pytest.param("text/plain", EDITH_JSON, id="text/plain JSON"),
        pytest.param("multipart/form-data; boundary=x", b"--x--", id="multipart"),
        pytest.param(None, EDITH_JSON, id="no content type"),
        pytest.param("application/merge-patch+json", EDITH_JSON, id="other json"),
    ],
)
async def test_login_bodies_not_declared_as_json_are_415_and_never_verified(
    client: httpx.AsyncClient,
    verifier: FakeProvider,
    content_type: str | None,
    content: bytes,
) -> None:
    headers = {"content-type": content_type} if content_type else {}

    response = await client.post("/auth/login", content=content, headers=headers)

    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert verifier.seen == []
    assert "set-cookie" not in response.headers


async def test_json_with_a_charset_is_json(
    client: httpx.AsyncClient, verifier: FakeProvider
) -> None:
    response = await client.post(
        "/auth/login",
        content=EDITH_JSON,
        headers={"content-type": "application/json; charset=utf-8"},
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="missing"),
        pytest.param({"assertion": ""}, id="empty"),
        pytest.param({"assertion": 42}, id="number"),
        pytest.param({"assertion": ["a"]}, id="list"),
        pytest.param({"assertion": None}, id="null"),
        pytest.param({"assertion": "a" * 8193}, id="oversized"),
        pytest.param({"assertion": "a", "audience": "https://evil.example"}, id="extra field"),
        pytest.param(["a"], id="not an object"),
    ],
)
async def test_json_of_the_wrong_shape_is_422_and_never_verified(
    client: httpx.AsyncClient, verifier: FakeProvider, body: object
) -> None:
    response = await client.post("/auth/login", json=body)

    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert {"type", "title", "status", "detail", "errors"} <= problem.keys()
    assert problem["errors"]
    assert verifier.seen == []


async def test_malformed_json_is_422(client: httpx.AsyncClient, verifier: FakeProvider) -> None:
    response = await client.post(
        "/auth/login", content=b'{"assertion": ', headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    assert verifier.seen == []


async def test_validation_errors_never_echo_the_assertion(client: httpx.AsyncClient) -> None:
    secret = "s3cret-assertion-" * 600

    response = await client.post("/auth/login", json={"assertion": secret})

    assert response.status_code == 422
    assert "s3cret-assertion" not in response.text


async def test_largest_allowed_assertion_is_verified(
    client: httpx.AsyncClient, verifier: FakeProvider
) -> None:
    verifier.accept("a" * 8192, email="edith@example.com")

    response = await login(client, "a" * 8192)

    assert response.status_code == 200


async def test_me_without_a_session_is_401_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/auth/me")

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "urn:signet:problem:not-authenticated",
        "title": "Not authenticated",
        "status": 401,
        "detail": "There is no valid session; sign in first.",
    }


async def _signed_in_token(client: httpx.AsyncClient, verifier: FakeProvider) -> str:
    response = await login(client, EDITH)
    client.cookies.clear()
    return set_cookie_attributes(response)["value"]


def _tamper_signature(token: str) -> str:
    # Change the signature's first character: the last one may differ only in base64 padding bits.
    payload, signature = token.rsplit(".", 1)
    return f"{payload}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(_tamper_signature, id="tampered signature"),
        pytest.param(lambda token: token[: len(token) // 2], id="truncated"),
        pytest.param(lambda token: "x" + token, id="tampered payload"),
        pytest.param(lambda token: "", id="empty"),
        pytest.param(lambda token: "not-a-token", id="garbage"),
        pytest.param(lambda token: "....", id="only separators"),
        pytest.param(lambda token: "%ZZ\\x00\u00e9", id="undecodable"),
        pytest.param(lambda token: token.split(".")[0], id="payload only"),
    ],
)
async def test_malformed_or_tampered_cookies_are_401_never_500(
    client: httpx.AsyncClient, verifier: FakeProvider, tamper: Callable[[str], str]
) -> None:
    token = await _signed_in_token(client, verifier)

    cookie = f"{COOKIE}={tamper(token)}".encode()  # raw bytes: browsers send what they hold

    response = await client.get("/auth/me", headers=[(b"cookie", cookie)])

    assert response.status_code == 401


async def test_cookie_signed_with_an_unknown_key_is_401(
    client: httpx.AsyncClient, verifier: FakeProvider, settings: Settings, clock: FakeClock
) -> None:
    token = await _signed_in_token(client, verifier)
    other_key = settings.model_copy(
        update={"secret_key": SecretStr("another-secret-key-that-is-long-enough-0123")}
    )

    async with serving(other_key, clock=clock, provider=verifier) as restarted:
        response = await restarted.get("/auth/me", headers={"cookie": f"{COOKIE}={token}"})

    assert response.status_code == 401


async def test_expired_session_is_401(
    client: httpx.AsyncClient, verifier: FakeProvider, clock: FakeClock, settings: Settings
) -> None:
    token = await _signed_in_token(client, verifier)
    cookie = {"cookie": f"{COOKIE}={token}"}
    clock.advance(settings.session_idle_timeout - 1)
    assert (await client.get("/auth/me", headers=cookie)).status_code == 200

    clock.advance(1)

    assert (await client.get("/auth/me", headers=cookie)).status_code == 401


async def test_session_of_a_deleted_user_is_401(
    client: httpx.AsyncClient, verifier: FakeProvider, db_session: AsyncSession
) -> None:
    token = await _signed_in_token(client, verifier)
    user = await db_session.get(User, "edith@example.com")
    await db_session.delete(user)
    await db_session.commit()

    response = await client.get("/auth/me", headers={"cookie": f"{COOKIE}={token}"})

    assert response.status_code == 401


async def test_logout_clears_the_cookie_with_the_same_attributes(
    client: httpx.AsyncClient, verifier: FakeProvider
) -> None:
    await login(client, EDITH)

    response = await client.post("/auth/logout")

    assert response.status_code == 204
    assert response.content == b""
    cleared = set_cookie_attributes(response)
    assert cleared["value"] in ("", '""')
    assert cleared["max-age"] == "0"
    assert {"httponly", "secure", "path", "samesite"} <= cleared.keys()
    assert response.headers["cache-control"] == "no-store"
    assert (await client.get("/auth/me")).status_code == 401


async def test_logout_without_a_session_is_204(client: httpx.AsyncClient) -> None:
    response = await client.post("/auth/logout")

    assert response.status_code == 204
    assert set_cookie_attributes(response)["max-age"] == "0"


async def test_login_through_the_real_verifier_uses_the_injected_client(
    client: httpx.AsyncClient, real_verifier: respx.MockRouter
) -> None:
    route = real_verifier.post(VERIFIER_URL).respond(json=persona_okay("edith@example.com"))

    response = await login(client, "real-assertion")

    assert response.status_code == 200
    assert b"assertion=real-assertion" in route.calls.last.request.content


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param({"side_effect": httpx.ConnectError("refused")}, id="connect error"),
        pytest.param({"side_effect": httpx.ReadTimeout("slow")}, id="timeout"),
        pytest.param({"return_value": httpx.Response(502)}, id="5xx"),
        pytest.param({"return_value": httpx.Response(200, text="<html>")}, id="non-JSON"),
    ],
)
async def test_an_unavailable_verifier_is_a_503_that_writes_nothing(
    client: httpx.AsyncClient,
    real_verifier: respx.MockRouter,
    db_session: AsyncSession,
    failure: dict[str, object],
) -> None:
    real_verifier.post(VERIFIER_URL).mock(**failure)  # type: ignore[arg-type]

    response = await login(client, EDITH)

    assert response.status_code == 503
    assert response.headers["retry-after"].isdigit()
    assert "set-cookie" not in response.headers
    assert await count_rows(db_session, User) == 0


async def test_the_verifiers_words_never_reach_the_client(
    client: httpx.AsyncClient, real_verifier: respx.MockRouter
) -> None:
    real_verifier.post(VERIFIER_URL).respond(
        json={"status": "failure", "reason": "internal detail: key 7 expired"}
    )

    response = await login(client, EDITH)

    assert response.status_code == 401
    assert "internal detail" not in response.text


# app.example is the public origin: the cookie domain (and RP ID) must be a suffix of its host.
@pytest.mark.settings(cookie_domain="example.com", audience="https://auth.example.com")
async def test_the_cookie_can_be_shared_with_sibling_subdomains(
    client: httpx.AsyncClient, verifier: FakeProvider
) -> None:
    response = await login(client, EDITH)

    assert set_cookie_attributes(response, name=BARE_COOKIE)["domain"] == "example.com"


async def test_a_cookie_under_the_former_bare_name_still_works_and_is_renamed(
    client: httpx.AsyncClient, verifier: FakeProvider
) -> None:
    token = (await login(client, EDITH)).cookies[COOKIE]
    client.cookies.clear()

    response = await client.get("/auth/me", headers={"cookie": f"{BARE_COOKIE}={token}"})

    assert response.status_code == 200
    renamed, cleared = response.headers.get_list("set-cookie")
    assert renamed.startswith(f"{COOKIE}=")  # the same session, under the prefixed name
    assert cleared.startswith(f'{BARE_COOKIE}="";')
    assert "Max-Age=0" in cleared
    again = await client.get("/auth/me", headers={"cookie": renamed.split(";")[0]})
    assert again.status_code == 200
    assert "set-cookie" not in again.headers


@pytest.mark.parametrize("domain", ["https://example.com", "example.com:443", "example", "a/b.com"])
def test_a_cookie_domain_must_be_a_domain(settings: Settings, domain: str) -> None:
    with pytest.raises(ValueError, match="domain"):
        settings.model_validate({**settings.model_dump(), "cookie_domain": domain})
