"""The front door: /auth/me and /auth/check answered before FastAPI's stack, exactly as the
ordinary routes behind CORS answer them."""

import httpx
import pytest
from fastapi import FastAPI

from api.services import Services
from api.testing import FakeProvider
from api.web.front import Answer, Asked

SPA_ORIGIN = "https://spa.example"
COOKIE = "__Host-signet_session"


@pytest.fixture
def verifier(verifier: FakeProvider) -> FakeProvider:
    verifier.accept("edith", email="edith@example.com")
    return verifier


@pytest.mark.settings(allowed_origins=(SPA_ORIGIN,))
@pytest.mark.parametrize("path", ["/auth/me", "/auth/check"])
async def test_the_front_door_and_the_route_behind_cors_answer_alike(
    client: httpx.AsyncClient, path: str
) -> None:
    await client.post("/auth/login", json={"assertion": "edith"})

    front = await client.get(path)
    through_cors = await client.get(path, headers={"origin": SPA_ORIGIN})

    assert front.status_code == through_cors.status_code
    assert front.content == through_cors.content
    ignored = {"x-request-id", "access-control-allow-origin", "access-control-allow-credentials"}
    ignored |= {"vary", "content-length"}
    assert {k: v for k, v in front.headers.items() if k not in ignored} == {
        k: v for k, v in through_cors.headers.items() if k not in ignored
    }
    assert "access-control-allow-origin" not in front.headers
    assert through_cors.headers["access-control-allow-origin"] == SPA_ORIGIN


@pytest.mark.parametrize("path", ["/auth/me", "/auth/check"])
async def test_front_door_answers_carry_the_request_id(
    client: httpx.AsyncClient, path: str
) -> None:
    kept = await client.get(path, headers={"x-request-id": "gw-42"})
    replaced = await client.get(path, headers={"x-request-id": "no good"})

    assert kept.headers["x-request-id"] == "gw-42"
    assert replaced.headers["x-request-id"] not in ("", "no good")


async def test_two_session_cookies_of_one_name_are_signed_out(client: httpx.AsyncClient) -> None:
    token = (await client.post("/auth/login", json={"assertion": "edith"})).cookies[COOKIE]
    client.cookies.clear()

    response = await client.get(
        "/auth/me", headers={"cookie": f"{COOKIE}={token}; {COOKIE}={token}"}
    )

    assert response.status_code == 401


async def test_an_unexpected_error_at_the_front_door_is_a_500_problem(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async def broken(_services: Services, _asked: Asked) -> Answer:
        raise RuntimeError("bug")

    app.front_door["/auth/me"] = broken  # type: ignore[attr-defined]

    response = await client.get("/auth/me", headers={"x-request-id": "req-500"})

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "req-500"
    assert response.json()["status"] == 500
