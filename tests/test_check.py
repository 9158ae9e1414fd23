"""GET /auth/check, what gateways ask on every request: 204 and who, in headers, or 401."""

import httpx
import pytest

from api.config import Settings
from api.testing import FakeClock, FakeProvider

COOKIE = "__Host-signet_session"


@pytest.fixture
def verifier(verifier: FakeProvider) -> FakeProvider:
    verifier.accept("edith", email="edith@example.com")
    verifier.accept("zoe", email="zoë@exämple.com")
    verifier.accept("ms", email="mallory@example.com", verified=False)
    return verifier


async def test_a_signed_in_request_is_204_with_who_in_headers(client: httpx.AsyncClient) -> None:
    await client.post("/auth/login", json={"assertion": "edith"})

    response = await client.get("/auth/check")

    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["x-signet-email"] == "edith@example.com"
    assert response.headers["x-signet-email-verified"] == "true"
    assert response.headers["x-signet-provider"] == "fake"
    assert "set-cookie" not in response.headers


async def test_a_bearer_token_is_checked_too(client: httpx.AsyncClient) -> None:
    token = (await client.post("/auth/token", json={"assertion": "edith"})).json()["access_token"]

    response = await client.get("/auth/check", headers={"authorization": f"Bearer {token}"})

    assert response.status_code == 204
    assert response.headers["x-signet-email"] == "edith@example.com"


@pytest.mark.parametrize("cookie", [None, "garbage", "a.b.c"])
async def test_no_valid_session_is_a_401_problem(
    client: httpx.AsyncClient, cookie: str | None
) -> None:
    headers = {"cookie": f"{COOKIE}={cookie}"} if cookie else {}

    response = await client.get("/auth/check", headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert "x-signet-email" not in response.headers


async def test_logout_ends_access_on_the_next_check(client: httpx.AsyncClient) -> None:
    token = (await client.post("/auth/login", json={"assertion": "edith"})).cookies[COOKIE]
    assert (await client.get("/auth/check")).status_code == 204

    await client.post("/auth/logout")

    assert (
        await client.get("/auth/check", headers={"cookie": f"{COOKIE}={token}"})
    ).status_code == 401


async def test_an_email_that_is_not_ascii_travels_percent_encoded(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/auth/login", json={"assertion": "zoe"})

    response = await client.get("/auth/check")

    assert response.headers["x-signet-email"] == "zo%C3%AB@ex%C3%A4mple.com"


async def test_an_unverified_email_says_so(client: httpx.AsyncClient) -> None:
    await client.post("/auth/login", json={"assertion": "ms"})

    assert (await client.get("/auth/check")).headers["x-signet-email-verified"] == "false"


async def test_the_check_slides_the_session_like_me(
    client: httpx.AsyncClient, clock: FakeClock, settings: Settings
) -> None:
    await client.post("/auth/login", json={"assertion": "edith"})
    clock.advance(settings.session_idle_timeout * settings.session_refresh_after + 1)

    response = await client.get("/auth/check")

    assert response.status_code == 204
    assert f"{COOKIE}=" in response.headers["set-cookie"]
    clock.advance(settings.session_idle_timeout - 1)  # past the old token's idle end
    assert (await client.get("/auth/check")).status_code == 204  # the client kept the new one
