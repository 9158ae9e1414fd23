"""The development identity provider, and the whole login flow through the real Persona verifier."""

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import create_app
from api.auth.providers.registry import build_providers
from api.cli import EXIT_OK, main
from api.clock import utcnow
from api.config import Settings, get_settings
from api.services import open_services
from api.web.deps import get_provider
from tests.apps import APP_ORIGIN, client_of, running


@pytest.fixture
def dev_settings(settings: Settings) -> Settings:
    return Settings(
        env="development",
        database_url=settings.database_url,
        secret_key=settings.secret_key,
        audience=APP_ORIGIN,
        verifier_url=f"{APP_ORIGIN}/dev-idp/verify",
    )


@pytest.fixture
async def dev_client(
    dev_settings: Settings, engine: AsyncEngine
) -> AsyncIterator[httpx.AsyncClient]:
    """A development app whose real provider reaches its own /dev-idp over HTTP (in-process)."""
    async with running(dev_settings) as app, client_of(app) as client:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport) as verifier_http:
            providers = build_providers(dev_settings, client=verifier_http, clock=utcnow)
            app.dependency_overrides[get_provider] = lambda: providers["persona"]
            yield client


async def issue(client: httpx.AsyncClient, email: str, audience: str | None = None) -> str:
    body = {"email": email} if audience is None else {"email": email, "audience": audience}
    response = await client.post("/dev-idp/assertions", json=body)
    assert response.status_code == 200
    assertion: str = response.json()["assertion"]
    return assertion


async def test_login_me_logout_with_the_development_identity_provider(
    dev_client: httpx.AsyncClient,
) -> None:
    assertion = await issue(dev_client, "Edith@Example.com")

    login = await dev_client.post("/auth/login", json={"assertion": assertion})
    me = await dev_client.get("/auth/me")
    logout = await dev_client.post("/auth/logout")
    after = await dev_client.get("/auth/me")

    assert login.status_code == 200
    assert login.json()["email"] == "edith@example.com"
    assert me.json()["email"] == "edith@example.com"
    assert (logout.status_code, after.status_code) == (204, 401)


async def test_an_assertion_for_another_site_is_rejected(dev_client: httpx.AsyncClient) -> None:
    assertion = await issue(dev_client, "edith@example.com", audience="https://elsewhere.example")

    response = await dev_client.post("/auth/login", json={"assertion": assertion})

    assert response.status_code == 401


async def test_a_forged_assertion_is_rejected(dev_client: httpx.AsyncClient) -> None:
    assertion = await issue(dev_client, "edith@example.com")

    # A character of the signature's middle, changed: its last ones may carry padding bits.
    middle = len(assertion) - 10
    forged = (
        assertion[:middle] + ("A" if assertion[middle] != "A" else "B") + assertion[middle + 1 :]
    )

    response = await dev_client.post("/auth/login", json={"assertion": forged})

    assert response.status_code == 401


async def test_verify_speaks_the_persona_protocol(dev_client: httpx.AsyncClient) -> None:
    assertion = await issue(dev_client, "edith@example.com")

    answer = await dev_client.post(
        "/dev-idp/verify", data={"assertion": assertion, "audience": APP_ORIGIN}
    )

    body = answer.json()
    assert body["status"] == "okay"
    assert (body["email"], body["audience"]) == ("edith@example.com", APP_ORIGIN)
    assert isinstance(body["expires"], int)


async def test_verify_without_an_assertion_fails_politely(dev_client: httpx.AsyncClient) -> None:
    answer = await dev_client.post("/dev-idp/verify", content=b"")

    assert answer.status_code == 200
    assert answer.json()["status"] == "failure"


async def test_the_identity_provider_wants_a_valid_email(dev_client: httpx.AsyncClient) -> None:
    response = await dev_client.post("/dev-idp/assertions", json={"email": "nobody"})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


@pytest.fixture
async def flow_client(settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """A development app with its default providers, its HTTP client reaching itself."""
    development = Settings(
        env="development",
        database_url=settings.database_url,
        secret_key=settings.secret_key,
        public_url=APP_ORIGIN,
    )
    transport = httpx.ASGITransport(app=create_app(development))  # replaced below
    async with (
        httpx.AsyncClient(transport=transport) as loopback,
        open_services(development, http_client=loopback) as services,
    ):
        app = create_app(services=services)
        transport.app = app
        async with app.router.lifespan_context(app), client_of(app) as client:
            yield client


async def test_the_development_provider_speaks_the_redirect_flow(
    flow_client: httpx.AsyncClient,
) -> None:
    providers = (await flow_client.get("/auth/providers")).json()
    start = await flow_client.get("/auth/providers/dev/start", params={"return_to": "/"})
    authorize = await flow_client.get(start.headers["location"])
    hidden = dict(re.findall(r'name="(\w+)" value="([^"]*)"', authorize.text))

    approved = await flow_client.post(
        "/dev-idp/authorize",
        data={**{k: html.unescape(v) for k, v in hidden.items()}, "email": "Edith@Example.com"},
    )
    back = await flow_client.get(approved.headers["location"])

    assert [provider["name"] for provider in providers] == ["dev", "persona", "email"]
    assert authorize.status_code == 200
    assert back.status_code == 303
    assert back.headers["location"] == "/"
    me = (await flow_client.get("/auth/me")).json()
    assert (me["email"], me["email_verified"]) == ("edith@example.com", True)


def test_signet_dev_behind_a_proxy_builds_on_the_proxys_address(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # docs/operations.md, "Development behind nginx": SIGNET_PUBLIC_URL is nginx's address.
    for name in ("SIGNET_ENV", "SIGNET_SECRET_KEY", "SIGNET_AUDIENCE", "SIGNET_VERIFIER_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SIGNET_PUBLIC_URL", "http://localhost:8080")
    monkeypatch.setenv("SIGNET_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'dev.db'}")
    seen: list[Settings] = []
    monkeypatch.setattr("uvicorn.run", lambda *_, **__: seen.append(get_settings()))
    get_settings.cache_clear()

    assert main(["dev", "--port", "8000"]) == EXIT_OK

    (settings,) = seen  # as the server's workers read them
    assert settings.public_url == "http://localhost:8080"
    issuer = settings.provider_variables["SIGNET_PROVIDER_DEV_ISSUER"]
    assert issuer == "http://localhost:8080/dev-idp"
    assert "http://localhost:8080" in settings.trusted_origins
    get_settings.cache_clear()
