"""Bearer tokens for clients without cookies: same sessions, same rules."""

import httpx
import pytest
from fastapi import FastAPI

from api.testing import FakeClock, FakeProvider, log_in_as

DAY = 24 * 3600


@pytest.fixture
def verifier(verifier: FakeProvider) -> FakeProvider:
    verifier.accept("edith", email="edith@example.com")
    return verifier


async def get_token(client: httpx.AsyncClient) -> str:
    response = await client.post("/auth/token", json={"assertion": "edith"})
    assert response.status_code == 200
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_token_answers_like_oauth_and_sets_no_cookie(client: httpx.AsyncClient) -> None:
    response = await client.post("/auth/token", json={"assertion": "edith"})

    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 14 * DAY
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "no-store"


async def test_a_bearer_token_is_accepted_like_the_cookie(client: httpx.AsyncClient) -> None:
    token = await get_token(client)

    response = await client.get("/auth/me", headers=bearer(token))

    assert response.status_code == 200
    assert response.json()["email"] == "edith@example.com"


async def test_the_token_endpoint_verifies_like_login(
    client: httpx.AsyncClient, verifier: FakeProvider
) -> None:
    rejected = await client.post("/auth/token", json={"assertion": "forged"})
    verifier.unavailable = True
    unavailable = await client.post("/auth/token", json={"assertion": "edith"})
    form = await client.post("/auth/token", content=b"assertion=edith")

    assert (rejected.status_code, unavailable.status_code, form.status_code) == (401, 503, 415)


async def test_logout_with_a_bearer_token_revokes_it(client: httpx.AsyncClient) -> None:
    token = await get_token(client)

    logout = await client.post("/auth/logout", headers=bearer(token))

    assert logout.status_code == 204
    assert (await client.get("/auth/me", headers=bearer(token))).status_code == 401


async def test_bearer_tokens_expire_like_sessions_and_are_not_refreshed(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    token = await get_token(client)
    clock.advance(10 * DAY)
    used = await client.get("/auth/me", headers=bearer(token))
    clock.advance(4 * DAY + 1)

    assert used.status_code == 200
    assert "set-cookie" not in used.headers
    assert (await client.get("/auth/me", headers=bearer(token))).status_code == 401


async def test_logout_everywhere_ends_bearer_sessions_too(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    token = await get_token(client)
    await log_in_as(client, "edith@example.com", app=app)  # and a browser session

    await client.post("/auth/logout-everywhere")

    assert (await client.get("/auth/me", headers=bearer(token))).status_code == 401


async def test_a_cookie_value_is_not_a_bearer_token(client: httpx.AsyncClient) -> None:
    login = await client.post("/auth/login", json={"assertion": "edith"})
    cookie = login.cookies["__Host-signet_session"]
    client.cookies.clear()

    response = await client.get("/auth/me", headers=bearer(cookie))

    assert response.status_code == 401


async def test_a_bearer_token_is_not_a_cookie(client: httpx.AsyncClient) -> None:
    token = await get_token(client)

    response = await client.get("/auth/me", headers={"cookie": f"__Host-signet_session={token}"})

    assert response.status_code == 401


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
async def test_the_scheme_is_case_insensitive(client: httpx.AsyncClient, scheme: str) -> None:
    token = await get_token(client)

    response = await client.get("/auth/me", headers={"authorization": f"{scheme} {token}"})

    assert response.status_code == 200


async def test_a_bad_authorization_header_is_not_overridden_by_a_good_cookie(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await log_in_as(client, "edith@example.com", app=app)  # the client holds a good cookie

    response = await client.get("/auth/me", headers={"authorization": "Basic ZWRpdGg6cHc="})

    assert response.status_code == 401
