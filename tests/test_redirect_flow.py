"""The authorization-code flow with PKCE against a stub OpenID provider (respx, real signatures)."""

import base64
import hashlib
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.config import Settings
from api.store.groups import MANUAL, add_groups
from api.store.tables import User
from api.testing import FakeClock
from tests.apps import APP_ORIGIN, serving
from tests.databases import count_rows

ISSUER = "https://idp.example"
AUTHORIZE = f"{ISSUER}/authorize"
TOKEN = f"{ISSUER}/token"
USERINFO = f"{ISSUER}/userinfo"
JWKS = f"{ISSUER}/keys"
CLIENT_ID = "signet-web"
CALLBACK = "/auth/providers/corp/callback"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class StubProvider:
    """What the provider answers: an ID token for the nonce it was sent, and userinfo."""

    def __init__(self, key: rsa.RSAPrivateKey, clock: FakeClock) -> None:
        self.key = key
        self.clock = clock
        self.claims: dict[str, Any] = {"email": "Edith@Example.com", "email_verified": True}
        self.userinfo: dict[str, Any] = {"sub": "edith-1", "email": "edith@example.com"}
        self.nonce = ""
        self.token_requests: list[httpx.Request] = []

    def id_token(self, **changes: Any) -> str:
        now = int(self.clock().timestamp())
        claims = {
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "sub": "edith-1",
            "iat": now,
            "exp": now + 300,
            "nonce": self.nonce,
            **self.claims,
            **changes,
        }
        payload = {name: value for name, value in claims.items() if value is not None}
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": "k1"})

    def token(self, request: httpx.Request) -> httpx.Response:
        self.token_requests.append(request)
        return httpx.Response(200, json={"id_token": self.id_token(), "access_token": "at-1"})


@pytest.fixture
def stub(
    key: rsa.RSAPrivateKey, clock: FakeClock
) -> Iterator[tuple[StubProvider, respx.MockRouter]]:
    provider = StubProvider(key, clock)
    jwk = {**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "k1", "use": "sig"}
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{ISSUER}/.well-known/openid-configuration").respond(
            json={
                "issuer": ISSUER,
                "authorization_endpoint": AUTHORIZE,
                "token_endpoint": TOKEN,
                "userinfo_endpoint": USERINFO,
                "jwks_uri": JWKS,
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            }
        )
        router.get(JWKS).respond(json={"keys": [jwk]})
        router.post(TOKEN, name="token").mock(side_effect=provider.token)
        router.get(USERINFO, name="userinfo").mock(
            side_effect=lambda _request: httpx.Response(200, json=provider.userinfo)
        )
        yield provider, router


@pytest.fixture
async def client(
    settings: Settings,
    engine: AsyncEngine,
    clock: FakeClock,
    http_client: httpx.AsyncClient,
    stub: tuple[StubProvider, respx.MockRouter],
    request: pytest.FixtureRequest,
) -> AsyncIterator[httpx.AsyncClient]:
    """The app offering corp, started once the stub provider answers (it asks at start);
    @pytest.mark.settings changes its settings for one test."""
    marker = request.node.get_closest_marker("settings")
    changes = marker.kwargs if marker is not None else {}
    corp = corp_settings(settings).model_copy(update=changes)
    async with serving(corp, clock=clock, http_client=http_client) as client:
        yield client


def corp_settings(settings: Settings, **variables: str) -> Settings:
    """The settings offering corp, with more of its SIGNET_PROVIDER_CORP_* `variables`."""
    return Settings(
        **settings.model_dump(exclude_unset=True, exclude={"verifier_url", "provider_variables"}),
        providers="corp",
        public_url=APP_ORIGIN,
        redirect_origins="https://spa.example",
        provider_variables={
            "SIGNET_PROVIDER_CORP_KIND": "oidc",
            "SIGNET_PROVIDER_CORP_ISSUER": ISSUER,
            "SIGNET_PROVIDER_CORP_CLIENT_ID": CLIENT_ID,
            "SIGNET_PROVIDER_CORP_CLIENT_SECRET": "s3cret",
            **{f"SIGNET_PROVIDER_CORP_{name}": value for name, value in variables.items()},
        },
    )


async def start(
    client: httpx.AsyncClient, stub: StubProvider, return_to: str = "/welcome"
) -> dict[str, str]:
    """Begin a flow as a browser would; the authorization request's parameters."""
    response = await client.get("/auth/providers/corp/start", params={"return_to": return_to})
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(AUTHORIZE + "?")
    query = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
    stub.nonce = query["nonce"]
    return query


async def test_a_full_sign_in_through_the_provider(
    client: httpx.AsyncClient, stub: tuple[StubProvider, respx.MockRouter]
) -> None:
    provider, _ = stub
    query = await start(client, provider)

    back = await client.get(CALLBACK, params={"code": "c-1", "state": query["state"]})

    assert back.status_code == 303
    assert back.headers["location"] == "/welcome"
    assert (await client.get("/auth/me")).json()["email"] == "edith@example.com"
    assert query["response_type"] == "code"
    assert query["redirect_uri"] == f"{APP_ORIGIN}{CALLBACK}"
    assert query["code_challenge_method"] == "S256"
    (exchange,) = provider.token_requests
    form = parse_qs(exchange.content.decode())
    verifier = form["code_verifier"][0]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert challenge.decode() == query["code_challenge"]
    assert form["code"] == ["c-1"]
    assert (
        exchange.headers["authorization"]
        == "Basic " + base64.b64encode(f"{CLIENT_ID}:s3cret".encode()).decode()
    )


async def test_the_flow_secrets_travel_in_a_short_lived_httponly_cookie(
    client: httpx.AsyncClient, stub: tuple[StubProvider, respx.MockRouter]
) -> None:
    response = await client.get("/auth/providers/corp/start")

    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "max-age=600" in cookie
    assert f"path={CALLBACK}" in cookie
    assert "samesite=lax" in cookie
    # The PKCE verifier stays in the cookie: only its challenge goes through the browser's URL.
    assert "code_verifier" not in response.headers["location"]
    assert "code_challenge=" in response.headers["location"]


async def test_a_callback_is_answered_once(
    client: httpx.AsyncClient, stub: tuple[StubProvider, respx.MockRouter]
) -> None:
    provider, _ = stub
    query = await start(client, provider)
    (flow_cookie,) = (cookie for cookie in client.cookies.jar if cookie.name.endswith("_flow"))
    await client.get(CALLBACK, params={"code": "c-1", "state": query["state"]})
    # The answer cleared the cookie; a replay brings the old one back.
    client.cookies.set(
        flow_cookie.name, flow_cookie.value or "", domain=flow_cookie.domain, path=flow_cookie.path
    )

    replay = await client.get(CALLBACK, params={"code": "c-1", "state": query["state"]})

    assert replay.status_code == 400
    assert replay.json()["type"] == "urn:signet:problem:flow-refused"
    assert len(provider.token_requests) == 1


@pytest.mark.parametrize("state", ["forged", None])
async def test_a_wrong_or_missing_state_is_refused_before_the_provider_is_asked(
    client: httpx.AsyncClient, stub: tuple[StubProvider, respx.MockRouter], state: str | None
) -> None:
    provider, _ = stub
    await start(client, provider)

    params = {"code": "c-1"} | ({"state": state} if state else {})
    response = await client.get(CALLBACK, params=params)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert provider.token_requests == []
    assert (await client.get("/auth/me")).status_code == 401


async def test_a_callback_without_the_flow_cookie_is_refused(
    client: httpx.AsyncClient, stub: tuple[StubProvider, respx.MockRouter]
) -> None:
    provider, _ = stub
    query = await start(client, provider)
    client.cookies.clear()

    response = await client.get(CALLBACK, params={"code": "c-1", "state": query["state"]})

    assert response.status_code == 400


def back_with_error(response: httpx.Response) -> str | None:
    assert response.status_code == 303
    query = parse_qs(urlsplit(response.headers["location"]).query)
    return query.get("signet_error", [None])[0]


async def test_a_cancelled_sign_in_returns_with_the_providers_error(
    client: httpx.AsyncClient, stub: tuple[StubProvider, respx.MockRouter]
) -> None:
    provider, _ = stub
    query = await start(client, provider, return_to="https://spa.example/app?tab=1")

    response = await client.get(
        CALLBACK, params={"error": "access_denied", "state": query["state"]}
    )

    assert back_with_error(response) == "access_denied"
    assert response.headers["location"].startswith("https://spa.example/app?tab=1&")
    assert "__Host-signet_session=" not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    ("change", "error"),
    [
        pytest.param({"nonce": "another"}, "invalid_response", id="nonce"),
        pytest.param({"aud": "someone-else"}, "invalid_response", id="audience"),
        pytest.param({"email_verified": False}, "email_not_verified", id="unverified"),
        pytest.param({"email_verified": "true"}, "email_not_verified", id="not JSON true"),
    ],
)
async def test_an_id_token_that_fails_a_check_signs_nobody_in(
    client: httpx.AsyncClient,
    stub: tuple[StubProvider, respx.MockRouter],
    db_session: AsyncSession,
    change: dict[str, Any],
    error: str,
) -> None:
    provider, _ = stub
    query = await start(client, provider)
    provider.claims |= change

    response = await client.get(CALLBACK, params={"code": "c", "state": query["state"]})

    assert back_with_error(response) == error
    assert await count_rows(db_session, User) == 0


async def test_the_email_comes_from_userinfo_when_the_id_token_has_none(
    client: httpx.AsyncClient, stub: tuple[StubProvider, respx.MockRouter]
) -> None:
    provider, router = stub
    provider.claims = {"email": None}
    provider.userinfo |= {"email_verified": True}
    query = await start(client, provider)

    response = await client.get(CALLBACK, params={"code": "c", "state": query["state"]})

    assert back_with_error(response) is None
    assert router["userinfo"].calls.last.request.headers["authorization"] == "Bearer at-1"
    assert (await client.get("/auth/me")).json()["email"] == "edith@example.com"


async def test_userinfo_about_another_subject_is_refused(
    client: httpx.AsyncClient, stub: tuple[StubProvider, respx.MockRouter]
) -> None:
    provider, _ = stub
    provider.claims = {"email": None}
    provider.userinfo = {"sub": "mallory", "email": "mallory@example.com", "email_verified": True}
    query = await start(client, provider)

    response = await client.get(CALLBACK, params={"code": "c", "state": query["state"]})

    assert back_with_error(response) == "invalid_response"


async def test_a_provider_that_fails_is_unavailable_not_a_bad_token(
    client: httpx.AsyncClient, stub: tuple[StubProvider, respx.MockRouter]
) -> None:
    provider, router = stub
    router["token"].mock(return_value=httpx.Response(502))
    query = await start(client, provider)

    response = await client.get(CALLBACK, params={"code": "c", "state": query["state"]})

    assert back_with_error(response) == "provider_unavailable"


@pytest.mark.parametrize(
    "return_to",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "https://spa.example@evil.example/",
        "http://spa.example/",  # the right host on the wrong scheme is another origin
    ],
)
async def test_a_return_to_outside_the_allow_list_is_refused(
    client: httpx.AsyncClient, stub: tuple[StubProvider, respx.MockRouter], return_to: str
) -> None:
    response = await client.get("/auth/providers/corp/start", params={"return_to": return_to})

    assert response.status_code == 400
    assert response.json()["type"] == "urn:signet:problem:invalid-return-to"


@pytest.mark.parametrize("return_to", ["/", "/a/b?c=d", f"{APP_ORIGIN}/x", "https://spa.example/"])
async def test_a_return_to_on_the_allow_list_starts(
    client: httpx.AsyncClient, stub: tuple[StubProvider, respx.MockRouter], return_to: str
) -> None:
    response = await client.get("/auth/providers/corp/start", params={"return_to": return_to})

    assert response.status_code == 302


async def test_an_unknown_provider_has_no_flow(client: httpx.AsyncClient) -> None:
    for path in ("/auth/providers/nobody/start", "/auth/providers/nobody/callback"):
        response = await client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


async def test_the_listing_gives_the_start_url(client: httpx.AsyncClient) -> None:
    (corp,) = (await client.get("/auth/providers")).json()

    assert corp["start_url"] == f"{APP_ORIGIN}/auth/providers/corp/start"


async def test_a_posted_id_token_is_accepted_once(
    client: httpx.AsyncClient, stub: tuple[StubProvider, respx.MockRouter]
) -> None:
    provider, _ = stub
    token = provider.id_token(nonce=None)

    first = await client.post("/auth/login", json={"assertion": token})
    again = await client.post("/auth/login", json={"assertion": token})

    assert (first.status_code, again.status_code) == (200, 401)


@pytest.mark.settings(passkeys=False)
async def test_the_sign_in_page_with_one_provider_and_no_passkeys_goes_straight_to_it(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/auth/sign-in", params={"return_to": "/app"})

    assert response.status_code == 302
    # Back to the sign-in page, which goes on to /app or says what went wrong.
    assert response.headers["location"] == (
        f"{APP_ORIGIN}/auth/providers/corp/start?return_to=%2Fauth%2Fsign-in%3Freturn_to%3D%252Fapp"
    )


async def test_with_passkeys_the_sign_in_page_offers_them_beside_the_one_provider(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/auth/sign-in", params={"return_to": "/app"})

    assert response.status_code == 200
    assert "Sign in with a passkey" in response.text
    assert "/auth/providers/corp/start?return_to=" in response.text


@pytest.mark.settings(passkeys=False)
async def test_the_sign_in_page_says_why_a_flow_failed_and_goes_on_once_one_works(
    client: httpx.AsyncClient, stub: tuple[StubProvider, respx.MockRouter]
) -> None:
    provider, _ = stub

    async def through_the_page() -> dict[str, str]:
        page = await client.get("/auth/sign-in", params={"return_to": "/app"})
        flow = await client.get(page.headers["location"])
        query = {
            name: values[0]
            for name, values in parse_qs(urlsplit(flow.headers["location"]).query).items()
        }
        provider.nonce = query["nonce"]
        return query

    # Edith cancels at the provider: back on the sign-in page, which says so and stays put.
    refused = await client.get(
        CALLBACK, params={"error": "access_denied", "state": (await through_the_page())["state"]}
    )
    again = await client.get(refused.headers["location"])
    # She tries again and gets in: the sign-in page sends her on to /app.
    worked = await client.get(
        CALLBACK, params={"code": "c-1", "state": (await through_the_page())["state"]}
    )
    onward = await client.get(worked.headers["location"])

    assert (
        refused.headers["location"] == "/auth/sign-in?return_to=%2Fapp&signet_error=access_denied"
    )
    assert again.status_code == 200  # not straight back to the provider
    assert 'role="alert">You cancelled signing in' in again.text
    assert "/auth/providers/corp/start?return_to=" in again.text
    assert worked.headers["location"] == "/auth/sign-in?return_to=%2Fapp"
    assert onward.status_code == 303
    assert onward.headers["location"] == "/app"


async def test_the_sign_in_page_refuses_a_foreign_return_to(client: httpx.AsyncClient) -> None:
    response = await client.get("/auth/sign-in", params={"return_to": "https://evil.example/"})

    assert response.status_code == 400


async def link(client: httpx.AsyncClient, stub: StubProvider, **params: str) -> httpx.Response:
    """Start a linking flow and answer it as the provider would."""
    response = await client.get("/auth/providers/corp/start", params={"link": "true", **params})
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    stub.nonce = query["nonce"][0]
    return await client.get(CALLBACK, params={"code": "c", "state": query["state"][0]})


async def test_linking_adds_an_identity_and_keeps_the_session(
    client: httpx.AsyncClient, stub: tuple[StubProvider, respx.MockRouter]
) -> None:
    provider, _ = stub
    query = await start(client, provider)
    await client.get(CALLBACK, params={"code": "c", "state": query["state"]})
    session = client.cookies["__Host-signet_session"]
    provider.claims |= {"sub": "edith-work", "email": "edith@work.example"}

    back = await link(client, provider)

    assert back_with_error(back) is None
    assert "__Host-signet_session=" not in back.headers.get("set-cookie", "")
    assert client.cookies["__Host-signet_session"] == session
    assert (await client.get("/auth/me")).json()["email"] == "edith@example.com"
    subjects = [item["subject"] for item in (await client.get("/auth/identities")).json()]
    assert sorted(subjects) == ["edith-1", "edith-work"]


async def test_linking_needs_a_session(
    client: httpx.AsyncClient, stub: tuple[StubProvider, respx.MockRouter]
) -> None:
    response = await client.get("/auth/providers/corp/start", params={"link": "true"})

    assert response.status_code == 401


async def test_an_identity_of_another_user_is_not_linked(
    client: httpx.AsyncClient, stub: tuple[StubProvider, respx.MockRouter]
) -> None:
    provider, _ = stub
    provider.claims |= {"sub": "francis-1", "email": "francis@example.com"}
    query = await start(client, provider)
    await client.get(CALLBACK, params={"code": "c", "state": query["state"]})  # francis
    client.cookies.clear()
    provider.claims |= {"sub": "edith-1", "email": "edith@example.com"}
    query = await start(client, provider)
    await client.get(CALLBACK, params={"code": "c", "state": query["state"]})  # edith
    provider.claims |= {"sub": "francis-1", "email": "francis@example.com"}

    back = await link(client, provider)

    assert back_with_error(back) == "identity_in_use"
    assert (await client.get("/auth/me")).json()["email"] == "edith@example.com"


async def test_each_sign_in_replaces_the_users_groups_from_the_providers_claim(
    settings: Settings,
    engine: AsyncEngine,
    clock: FakeClock,
    http_client: httpx.AsyncClient,
    stub: tuple[StubProvider, respx.MockRouter],
    db_session: AsyncSession,
) -> None:
    provider, _ = stub
    grouped = corp_settings(settings, TRUST_EMAIL="true", GROUPS_CLAIM="groups")
    async with serving(grouped, clock=clock, http_client=http_client) as client:

        async def sign_in_with(claims: dict[str, Any]) -> list[str]:
            provider.claims = {"email": "edith@example.com", **claims}
            query = await start(client, provider)
            back = await client.get(CALLBACK, params={"code": "c", "state": query["state"]})
            assert back_with_error(back) is None
            groups: list[str] = (await client.get("/auth/me")).json()["groups"]
            return groups

        assert await sign_in_with({"groups": ["/Admins", "ops", "Not a group"]}) == [
            "admins",
            "ops",
        ]
        await add_groups(db=db_session, email="edith@example.com", names=["mine"], source=MANUAL)
        await db_session.commit()
        assert await sign_in_with({"groups": ["ops"]}) == ["mine", "ops"]
        # Entra's overage, or a claim that is no list of strings: left as they were.
        overage = {"_claim_names": {"groups": "src1"}}
        assert await sign_in_with(overage) == ["mine", "ops"]
        assert await sign_in_with({"groups": "ops"}) == ["mine", "ops"]
        # No claim: the provider puts the user in no group; the hand-given one stays.
        assert await sign_in_with({}) == ["mine"]


async def test_a_disabled_user_returns_with_account_disabled_and_no_session(
    client: httpx.AsyncClient, stub: tuple[StubProvider, respx.MockRouter], engine: AsyncEngine
) -> None:
    provider, _ = stub
    query = await start(client, provider)
    await client.get(CALLBACK, params={"code": "c-1", "state": query["state"]})
    async with AsyncSession(engine) as db:
        user = await db.get(User, "edith@example.com")
        assert user is not None
        user.disabled = True
        await db.commit()
    client.cookies.clear()
    query = await start(client, provider)

    back = await client.get(CALLBACK, params={"code": "c-2", "state": query["state"]})

    assert back_with_error(back) == "account_disabled"
    assert "set-cookie" not in {name.lower() for name in back.headers if "session" in name}
    assert (await client.get("/auth/me")).status_code == 401
