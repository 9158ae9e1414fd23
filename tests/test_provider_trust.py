"""Trust is a property of the provider, not of a claim: an untrusted provider's email is
unverified even when its token says `email_verified: true`, on every way of signing in."""

from collections.abc import AsyncIterator

import httpx
import pytest
import respx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from api.config import Settings
from api.store.tables import IdentityRow, User
from api.testing import FakeClock
from tests.apps import APP_ORIGIN, serving
from tests.databases import count_rows
from tests.test_redirect_flow import CLIENT_ID, ISSUER, StubProvider, back_with_error, key, stub

__all__ = ["key", "stub"]  # fixtures, shared with the redirect flow's tests

Stub = tuple[StubProvider, respx.MockRouter]


def provider_variables(name: str, trust: str) -> dict[str, str]:
    prefix = f"SIGNET_PROVIDER_{name.upper()}_"
    return {
        f"{prefix}KIND": "oidc",
        f"{prefix}ISSUER": ISSUER,
        f"{prefix}CLIENT_ID": CLIENT_ID,
        f"{prefix}CLIENT_SECRET": "s3cret",
        f"{prefix}TRUST_EMAIL": trust,
    }


@pytest.fixture
async def client(
    settings: Settings,
    engine: AsyncEngine,
    clock: FakeClock,
    http_client: httpx.AsyncClient,
    stub: Stub,
) -> AsyncIterator[httpx.AsyncClient]:
    """Two providers on one stub issuer: `partner`, not trusted (a partner's Keycloak), and
    `corp`, trusted; the stub's ID tokens say `email_verified: true`."""
    two = Settings(
        **settings.model_dump(exclude_unset=True, exclude={"verifier_url", "provider_variables"}),
        providers="corp,partner",
        public_url=APP_ORIGIN,
        provider_variables=provider_variables("corp", "true")
        | provider_variables("partner", "false"),
    )
    async with serving(two, clock=clock, http_client=http_client) as client:
        yield client


async def sign_in_through(client: httpx.AsyncClient, stub: Stub, name: str) -> httpx.Response:
    """The whole code flow through provider `name`; the callback's answer."""
    start = await client.get(f"/auth/providers/{name}/start", params={"return_to": "/"})
    location = httpx.URL(start.headers["location"])
    stub[0].nonce = location.params["nonce"]
    return await client.get(
        f"/auth/providers/{name}/callback",
        params={"code": "c-1", "state": location.params["state"]},
    )


async def post_token(
    client: httpx.AsyncClient, stub: Stub, name: str, route: str, subject: str
) -> httpx.Response:
    token = stub[0].id_token(nonce=None, sub=subject)
    return await client.post(route, json={"provider": name, "assertion": token})


async def subjects(db_session: AsyncSession) -> list[tuple[str, str]]:
    rows = await db_session.execute(select(col(IdentityRow.provider), col(IdentityRow.subject)))
    return sorted((provider, subject) for provider, subject in rows.all())


async def test_the_code_flow_of_an_untrusted_provider_never_joins_a_user(
    client: httpx.AsyncClient, stub: Stub, db_session: AsyncSession
) -> None:
    assert (await sign_in_through(client, stub, "corp")).status_code == 303
    client.cookies.clear()
    stub[0].claims["sub"] = "someone-else"

    refused = await sign_in_through(client, stub, "partner")

    assert back_with_error(refused) == "account_exists"
    cookies = refused.headers.get_list("set-cookie")
    assert not [cookie for cookie in cookies if cookie.startswith("__Host-signet_session=")]
    assert (await client.get("/auth/me")).status_code == 401
    assert await subjects(db_session) == [("corp", "edith-1")]


@pytest.mark.parametrize("route", ["/auth/login", "/auth/token"])
async def test_a_posted_token_of_an_untrusted_provider_never_joins_a_user(
    client: httpx.AsyncClient, stub: Stub, db_session: AsyncSession, route: str
) -> None:
    assert (await post_token(client, stub, "corp", route, "edith-1")).status_code == 200
    client.cookies.clear()

    refused = await post_token(client, stub, "partner", route, "mallory-1")

    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:signet:problem:account-exists"
    assert "set-cookie" not in refused.headers
    assert await subjects(db_session) == [("corp", "edith-1")]


@pytest.mark.parametrize("route", ["/auth/login", "/auth/token"])
async def test_an_untrusted_provider_makes_an_unverified_user_a_trusted_one_takes_over(
    client: httpx.AsyncClient, stub: Stub, db_session: AsyncSession, route: str
) -> None:
    first = await post_token(client, stub, "partner", route, "mallory-1")
    assert first.status_code == 200
    if route == "/auth/login":
        assert first.json()["email_verified"] is False
        untrusted = {"cookie": first.headers["set-cookie"].split(";")[0]}
    else:
        untrusted = {"authorization": f"Bearer {first.json()['access_token']}"}
    client.cookies.clear()
    seen = await client.get("/auth/me", headers=untrusted)
    assert (seen.status_code, seen.json()["email_verified"]) == (200, False)

    owner = await post_token(client, stub, "corp", route, "edith-1")

    assert owner.status_code == 200
    assert (await client.get("/auth/me", headers=untrusted)).status_code == 401
    assert await subjects(db_session) == [("corp", "edith-1")]
    user = (await db_session.scalars(select(User))).one()
    assert user.email_verified is True
    assert await count_rows(db_session, User) == 1


async def test_a_trusted_provider_that_says_nothing_of_email_verified_is_believed(
    client: httpx.AsyncClient, stub: Stub
) -> None:
    del stub[0].claims["email_verified"]

    assert (await sign_in_through(client, stub, "corp")).status_code == 303

    assert (await client.get("/auth/me")).json()["email_verified"] is True


@pytest.mark.parametrize("name", ["corp", "partner"])
async def test_email_verified_false_is_refused_whatever_the_trust(
    client: httpx.AsyncClient, stub: Stub, name: str
) -> None:
    stub[0].claims["email_verified"] = False

    assert back_with_error(await sign_in_through(client, stub, name)) == "email_not_verified"
