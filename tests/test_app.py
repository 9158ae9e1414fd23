"""The application as a whole: what is mounted where, the lifespan, errors as problems."""

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import create_app
from api.auth.providers.base import AssertionRejected
from api.config import Settings
from api.services import services_of
from api.testing import FakeProvider
from api.web.deps import get_provider
from tests.apps import APP_ORIGIN


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_production_never_mounts_the_development_identity_provider(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    assert settings.env == "production"

    response = await client.post("/dev-idp/assertions", json={"email": "mallory@example.com"})

    assert response.status_code == 404
    assert "/dev-idp/verify" not in (await client.get("/openapi.json")).text


async def test_unknown_paths_and_methods_are_problems(client: httpx.AsyncClient) -> None:
    missing = await client.get("/nowhere")
    wrong_method = await client.get("/auth/login")

    assert (missing.status_code, wrong_method.status_code) == (404, 405)
    for response in (missing, wrong_method):
        assert response.headers["content-type"] == "application/problem+json"
        assert {"type", "title", "status", "detail"} <= response.json().keys()


async def answer_to_a_route_raising(settings: Settings, error: Exception) -> httpx.Response:
    """What the app answers when a route raises `error`."""
    app = create_app(settings)
    broken = APIRouter()

    @broken.get("/broken")
    async def fail() -> None:
        raise error

    app.include_router(broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=APP_ORIGIN) as client:
        return await client.get("/broken")


async def test_an_unexpected_error_is_a_500_problem_that_reveals_nothing(
    settings: Settings,
) -> None:
    response = await answer_to_a_route_raising(
        settings, RuntimeError("database password is hunter2")
    )

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "hunter2" not in response.text


async def test_the_lifespan_opens_one_http_client_and_closes_it(settings: Settings) -> None:
    app = create_app(settings)

    async with app.router.lifespan_context(app):
        client = services_of(app).http_client
        assert isinstance(client, httpx.AsyncClient)
        assert not client.is_closed

    assert client.is_closed
    assert not hasattr(app.state, "services")


async def test_without_overrides_the_app_uses_its_own_database(
    settings: Settings, engine: AsyncEngine, verifier: FakeProvider
) -> None:
    app = create_app(settings)  # the engine fixture made the tables at settings.database_url
    app.dependency_overrides[get_provider] = lambda: verifier
    verifier.accept("a", email="edith@example.com")
    transport = httpx.ASGITransport(app=app)

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=APP_ORIGIN) as client,
    ):
        login = await client.post("/auth/login", json={"assertion": "a"})
        me = await client.get("/auth/me")

    assert (login.status_code, me.status_code) == (200, 200)


@pytest.fixture
def openapi(app: FastAPI) -> dict[str, object]:
    return app.openapi()


def test_openapi_documents_the_cookie_bearer_and_admin_key_schemes(
    openapi: dict[str, object], settings: Settings
) -> None:
    schemes = openapi["components"]["securitySchemes"]  # type: ignore[index]

    assert schemes == {
        "SessionCookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.session_cookie_name,
        },
        "BearerToken": {"type": "http", "scheme": "bearer"},
        "AdminKey": {
            "type": "http",
            "scheme": "bearer",
            "description": "An admin key (sk_…) from `signet admin-keys create`.",
        },
    }
    for path in ("/auth/me", "/auth/logout-everywhere"):
        operation = openapi["paths"][path]["post" if "logout" in path else "get"]  # type: ignore[index]
        # Either scheme will do: two requirement objects, not one with both.
        assert operation["security"] == [{"SessionCookie": []}, {"BearerToken": []}]
    # Logout also works with no session at all: no lock.
    assert "security" not in openapi["paths"]["/auth/logout"]["post"]  # type: ignore[index]


def test_openapi_uses_the_configured_cookie_name(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"cookie_name": "sid"}))

    schemes = app.openapi()["components"]["securitySchemes"]

    assert schemes["SessionCookie"]["name"] == "__Host-sid"


@pytest.mark.parametrize(
    ("path", "method", "errors"),
    [
        ("/auth/login", "post", {"400", "401", "403", "409", "413", "415", "422", "429", "503"}),
        ("/auth/token", "post", {"400", "401", "403", "409", "413", "415", "422", "429", "503"}),
        ("/auth/me", "get", {"401", "503"}),
        ("/auth/check", "get", {"400", "401", "403", "503"}),
        ("/auth/logout", "post", {"403", "415"}),
        ("/auth/logout-everywhere", "post", {"401", "403", "415"}),
    ],
)
def test_openapi_documents_errors_as_problems(
    openapi: dict[str, object], path: str, method: str, errors: set[str]
) -> None:
    operation = openapi["paths"][path][method]  # type: ignore[index]

    documented = {status for status in operation["responses"] if status[0] in "45"}
    assert documented == errors
    for status in errors:
        content = operation["responses"][status]["content"]
        assert list(content) == ["application/problem+json"]
        schema = content["application/problem+json"]["schema"]["$ref"]
        assert schema.endswith("ValidationProblem" if status == "422" else "/Problem")


def test_every_operation_has_a_written_summary_and_a_lock_only_if_it_needs_a_session(
    app: FastAPI, openapi: dict[str, object]
) -> None:
    documented = [route for route in app.routes if isinstance(route, APIRoute)]
    unsummarised = [
        route.path for route in documented if route.include_in_schema and not route.summary
    ]
    locked = {
        f"{method.upper()} {path}": operation.get("security")
        for path, operations in openapi["paths"].items()  # type: ignore[attr-defined]
        for method, operation in operations.items()
        if operation.get("security")
    }
    admin = {
        f"{method.upper()} {path}"
        for path, operations in openapi["paths"].items()  # type: ignore[attr-defined]
        for method in operations
        if path.startswith("/admin/")
    }

    assert unsummarised == []
    # The admin API's routes take an admin key, and only those.
    assert admin
    assert all(locked.get(route) == [{"AdminKey": []}] for route in admin)
    assert set(locked) - admin == {
        "GET /auth/me",
        "GET /auth/check",
        "POST /auth/logout-everywhere",
        "GET /auth/identities",
        "DELETE /auth/identities/{identity_id}",
        "GET /auth/sessions",
        "DELETE /auth/sessions/{session_id}",
        "GET /auth/passkeys",
        "PATCH /auth/passkeys/{passkey_id}",
        "DELETE /auth/passkeys/{passkey_id}",
        "POST /auth/passkeys/registration",
        "POST /auth/passkeys/registration/options",
    }


def test_every_route_has_a_one_line_description(openapi: dict[str, object]) -> None:
    for path, operations in openapi["paths"].items():  # type: ignore[attr-defined]
        for method, operation in operations.items():
            description = operation.get("description", "")
            assert description, f"{method.upper()} {path} has no description"
            assert "\n" not in description


async def test_a_subclass_of_a_domain_error_gets_its_bases_problem(settings: Settings) -> None:
    class Expired(AssertionRejected):
        pass

    response = await answer_to_a_route_raising(settings, Expired("expired"))

    assert response.status_code == 401
    assert response.json()["type"] == "urn:signet:problem:assertion-rejected"


@pytest.mark.parametrize("path", ["/auth/me/", "/auth/providers/", "/healthz/"])
async def test_a_trailing_slash_is_a_404_never_a_redirect_built_from_the_host(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path, headers={"host": "evil.example"})

    assert response.status_code == 404
    assert "location" not in response.headers
