"""GitHub's web application flow, against GitHub's endpoints mocked with respx."""

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from sqlalchemy.ext.asyncio import AsyncEngine

from api.auth.providers.github import API_URL, AUTHORIZE_URL, EXCHANGE_URL
from api.config import Settings
from api.testing import FakeClock
from tests.apps import APP_ORIGIN, serving

CALLBACK = "/auth/providers/github/callback"


class GitHub:
    def __init__(self) -> None:
        self.emails: list[dict[str, Any]] = [
            {"email": "old@example.com", "primary": False, "verified": True},
            {"email": "Edith@Example.com", "primary": True, "verified": True},
        ]
        self.exchange: dict[str, Any] = {"access_token": "gho_1", "token_type": "bearer"}


@pytest.fixture
def github() -> Iterator[tuple[GitHub, respx.MockRouter]]:
    state = GitHub()
    with respx.mock(assert_all_called=False) as router:
        router.post(EXCHANGE_URL, name="exchange").mock(
            side_effect=lambda _request: httpx.Response(200, json=state.exchange)
        )
        router.get(f"{API_URL}/user").respond(json={"id": 4242, "login": "edith"})
        router.get(f"{API_URL}/user/emails", name="emails").mock(
            side_effect=lambda _request: httpx.Response(200, json=state.emails)
        )
        yield state, router


@pytest.fixture(params=[pytest.param("", id="trusted by default")])
async def client(
    settings: Settings,
    engine: AsyncEngine,
    clock: FakeClock,
    http_client: httpx.AsyncClient,
    request: pytest.FixtureRequest,
) -> AsyncIterator[httpx.AsyncClient]:
    """The app offering GitHub, with SIGNET_PROVIDER_GITHUB_TRUST_EMAIL set to the param."""
    configured = Settings(
        **settings.model_dump(exclude_unset=True, exclude={"verifier_url", "provider_variables"}),
        providers="github",
        public_url=APP_ORIGIN,
        provider_variables={
            "SIGNET_PROVIDER_GITHUB_CLIENT_ID": "gh-client",
            "SIGNET_PROVIDER_GITHUB_CLIENT_SECRET": "gh-secret",
            "SIGNET_PROVIDER_GITHUB_TRUST_EMAIL": request.param,
        },
    )
    async with serving(configured, clock=clock, http_client=http_client) as client:
        yield client


async def sign_in(client: httpx.AsyncClient) -> httpx.Response:
    start = await client.get("/auth/providers/github/start")
    assert start.status_code == 302
    location = start.headers["location"]
    assert location.startswith(AUTHORIZE_URL + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["scope"] == ["read:user user:email"]
    assert "nonce" not in query
    return await client.get(CALLBACK, params={"code": "c", "state": query["state"][0]})


async def test_github_signs_in_with_the_primary_verified_email(
    client: httpx.AsyncClient, github: tuple[GitHub, respx.MockRouter]
) -> None:
    _, router = github

    response = await sign_in(client)

    assert response.status_code == 303
    assert (await client.get("/auth/me")).json()["email"] == "edith@example.com"
    exchange = parse_qs(router["exchange"].calls.last.request.content.decode())
    assert exchange["client_secret"] == ["gh-secret"]
    assert "code_verifier" in exchange
    assert router["emails"].calls.last.request.headers["authorization"] == "Bearer gho_1"
    (identity,) = (await client.get("/auth/identities")).json()
    assert (identity["provider"], identity["subject"]) == ("github", "4242")


@pytest.mark.parametrize(
    ("client", "verified"),
    [pytest.param("", True, id="trusted by default"), pytest.param("false", False, id="not")],
    indirect=["client"],
)
async def test_githubs_emails_are_verified_only_when_it_is_trusted(
    client: httpx.AsyncClient, github: tuple[GitHub, respx.MockRouter], verified: bool
) -> None:
    assert (await sign_in(client)).status_code == 303

    assert (await client.get("/auth/me")).json()["email_verified"] is verified


@pytest.mark.parametrize(
    "emails",
    [
        [{"email": "edith@example.com", "primary": True, "verified": False}],
        [{"email": "edith@example.com", "primary": False, "verified": True}],
        [],
    ],
)
async def test_without_a_primary_verified_email_nobody_is_signed_in(
    client: httpx.AsyncClient, github: tuple[GitHub, respx.MockRouter], emails: list[Any]
) -> None:
    state, _ = github
    state.emails = emails

    response = await sign_in(client)

    assert "signet_error=email_not_verified" in response.headers["location"]
    assert (await client.get("/auth/me")).status_code == 401


async def test_a_bad_code_answered_with_200_and_an_error_is_invalid(
    client: httpx.AsyncClient, github: tuple[GitHub, respx.MockRouter]
) -> None:
    state, _ = github
    state.exchange = {"error": "bad_verification_code"}

    response = await sign_in(client)

    assert "signet_error=invalid_response" in response.headers["location"]


async def test_github_takes_no_posted_assertion(
    client: httpx.AsyncClient, github: tuple[GitHub, respx.MockRouter]
) -> None:
    response = await client.post("/auth/login", json={"assertion": "anything"})

    assert response.status_code == 401
