"""POST /auth/introspect (RFC 7662), for backends: authenticated clients, live or not, no slide."""

import base64

import httpx
import pytest

from api.config import Settings
from api.testing import FakeClock, FakeProvider

CLIENT = ("billing", "billing-secret-0123456789")
introspection = pytest.mark.settings(introspection_clients=":".join(CLIENT))


@pytest.fixture
def verifier(verifier: FakeProvider) -> FakeProvider:
    verifier.accept("edith", email="edith@example.com")
    return verifier


async def introspect(
    client: httpx.AsyncClient, token: str, auth: tuple[str, str] | None = CLIENT
) -> httpx.Response:
    headers = {}
    if auth is not None:
        pair = base64.b64encode(":".join(auth).encode()).decode()
        headers["authorization"] = f"Basic {pair}"
    return await client.post("/auth/introspect", data={"token": token}, headers=headers)


@introspection
async def test_a_live_bearer_token_is_described(
    client: httpx.AsyncClient, clock: FakeClock, settings: Settings
) -> None:
    token = (await client.post("/auth/token", json={"assertion": "edith"})).json()["access_token"]

    response = await introspect(client, token)

    now = int(clock().timestamp())
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "active": True,
        "sub": "edith@example.com",
        "email": "edith@example.com",
        "email_verified": True,
        "iat": now,
        "exp": now + settings.session_idle_timeout,
        "token_type": "bearer",
        "groups": [],
    }


@introspection
async def test_a_session_cookie_value_is_described_and_never_slid(
    client: httpx.AsyncClient, clock: FakeClock, settings: Settings
) -> None:
    cookie = (await client.post("/auth/login", json={"assertion": "edith"})).cookies[
        "__Host-signet_session"
    ]
    clock.advance(settings.session_idle_timeout - 10)

    response = await introspect(client, cookie)

    assert response.json()["token_type"] == "session_cookie"
    assert "set-cookie" not in response.headers
    clock.advance(11)  # introspection did not extend it

    assert (await introspect(client, cookie)).json() == {"active": False}


@introspection
@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
async def test_anything_not_live_is_exactly_inactive(client: httpx.AsyncClient, token: str) -> None:
    response = await introspect(client, token)

    assert (response.status_code, response.json()) == (200, {"active": False})


@introspection
async def test_a_logged_out_token_is_inactive(client: httpx.AsyncClient) -> None:
    cookie = (await client.post("/auth/login", json={"assertion": "edith"})).cookies[
        "__Host-signet_session"
    ]
    await client.post("/auth/logout")

    assert (await introspect(client, cookie)).json() == {"active": False}


@introspection
@pytest.mark.parametrize(
    "auth", [None, ("billing", "wrong-secret-0123456789"), ("other", CLIENT[1])]
)
async def test_a_client_without_its_credentials_is_401(
    client: httpx.AsyncClient, auth: tuple[str, str] | None
) -> None:
    response = await introspect(client, "anything", auth=auth)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Basic")


async def test_without_clients_introspection_is_not_there(client: httpx.AsyncClient) -> None:
    assert (await introspect(client, "anything")).status_code == 404


@pytest.mark.parametrize("clients", ["billing", "billing:short", ":secret-0123456789abcdef"])
def test_clients_are_id_secret_pairs(settings: Settings, clients: str) -> None:
    with pytest.raises(ValueError, match="id:secret"):
        settings.model_validate({**settings.model_dump(), "introspection_clients": clients})
