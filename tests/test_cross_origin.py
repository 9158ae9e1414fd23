"""CSRF and CORS: other sites cannot change state; allowed origins can, with credentials."""

import httpx
import pytest
from fastapi import FastAPI

from api.config import Settings
from api.testing import FakeProvider
from tests.apps import APP_ORIGIN

SPA_ORIGIN = "https://spa.example"
EVIL_ORIGIN = "https://evil.example"
LOGIN = {"assertion": "edith"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """SIGNET_AUDIENCE is APP_ORIGIN; SIGNET_ALLOWED_ORIGINS lists a SPA on another origin."""
    return settings.model_copy(update={"allowed_origins": (SPA_ORIGIN,)})


@pytest.fixture
def verifier(verifier: FakeProvider) -> FakeProvider:
    verifier.accept("edith", email="edith@example.com")
    return verifier


@pytest.mark.parametrize("path", ["/auth/login", "/auth/token", "/auth/logout"])
async def test_state_changing_requests_from_another_site_are_refused(
    client: httpx.AsyncClient, verifier: FakeProvider, path: str
) -> None:
    response = await client.post(path, json=LOGIN, headers={"origin": EVIL_ORIGIN})

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:signet:problem:cross-site-request"
    assert verifier.seen == []
    assert "set-cookie" not in response.headers


async def test_the_null_origin_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/auth/login", json=LOGIN, headers={"origin": "null"})

    assert response.status_code == 403


@pytest.mark.parametrize("fetch_site", ["same-origin", "same-site", "none"])
async def test_an_untrusted_origin_is_refused_whatever_sec_fetch_site_says(
    client: httpx.AsyncClient, verifier: FakeProvider, fetch_site: str
) -> None:
    # A browser on a proxy's port Signet was not told of (SIGNET_PUBLIC_URL) sends both.
    headers = {"origin": "http://127.0.0.1:8080", "sec-fetch-site": fetch_site}

    response = await client.post("/auth/login", json=LOGIN, headers=headers)

    assert response.status_code == 403
    assert verifier.seen == []


async def test_cross_site_fetch_metadata_without_origin_is_refused(
    client: httpx.AsyncClient, verifier: FakeProvider
) -> None:
    response = await client.post(
        "/auth/login", json=LOGIN, headers={"sec-fetch-site": "cross-site"}
    )

    assert response.status_code == 403
    assert verifier.seen == []


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"origin": APP_ORIGIN, "sec-fetch-site": "same-origin"}, id="the audience"),
        pytest.param({"origin": SPA_ORIGIN, "sec-fetch-site": "cross-site"}, id="allowed origin"),
        pytest.param({"origin": SPA_ORIGIN.upper()}, id="allowed origin, upper case"),
        pytest.param({"sec-fetch-site": "same-site"}, id="same site, no origin"),
        pytest.param({}, id="not a browser"),
    ],
)
async def test_trusted_origins_and_non_browser_clients_may_sign_in(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.post("/auth/login", json=LOGIN, headers=headers)

    assert response.status_code == 200


async def test_the_services_own_origin_may_change_state(app: FastAPI) -> None:
    # /docs on the service's own host is not the audience, but it is not another site either.
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://signet.example") as client:
        response = await client.post("/auth/logout", headers={"origin": "https://signet.example"})

    assert response.status_code == 204


async def test_reads_are_not_refused_by_origin(client: httpx.AsyncClient) -> None:
    response = await client.get("/auth/me", headers={"origin": EVIL_ORIGIN})

    assert response.status_code == 401


async def test_cors_preflight_allows_the_allowed_origin_with_credentials(
    client: httpx.AsyncClient,
) -> None:
    response = await client.options(
        "/auth/login",
        headers={
            "origin": SPA_ORIGIN,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == SPA_ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "content-type" in response.headers["access-control-allow-headers"].lower()


async def test_cors_preflight_refuses_other_origins(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/auth/login",
        headers={"origin": EVIL_ORIGIN, "access-control-request-method": "POST"},
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "access-control-allow-origin" not in response.headers


async def test_cors_responses_let_the_allowed_origin_read_them(client: httpx.AsyncClient) -> None:
    response = await client.post("/auth/login", json=LOGIN, headers={"origin": SPA_ORIGIN})

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == SPA_ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "set-cookie" in response.headers


async def test_other_origins_get_no_cors_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/auth/me", headers={"origin": EVIL_ORIGIN})

    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("path", ["/auth/logout", "/auth/logout-everywhere"])
async def test_bodies_that_are_not_json_are_refused_everywhere(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.post(
        path, content=b"x=1", headers={"content-type": "application/x-www-form-urlencoded"}
    )

    assert response.status_code == 415
