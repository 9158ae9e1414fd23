"""Fixtures: an app on its own database, running its real lifespan, with a fake provider and
clock handed in through its Services."""

import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.auth.events import CLI
from api.config import Settings
from api.services import services_of
from api.store.db import create_db_sessions
from api.testing import FakeClock, FakeProvider
from api.web.deps import get_provider
from tests.apps import APP_ORIGIN, client_of, running, suite_settings
from tests.authenticator import Authenticator
from tests.databases import SUITE_DATABASE_URL, empty_database, engine_with_tables
from tests.passkey_calls import EDITH, add_passkey, sign_in
from tests.servers import REPO

# The files the defaults name (production's ./signet.db, `signet dev`'s ./signet-dev.db): a
# test that falls back on them leaves one in the checkout, for a real server to find later.
DEFAULT_DATABASE_FILES = ("signet.db", "signet-dev.db")


def _default_database_files() -> dict[Path, tuple[int, int] | None]:
    """Each default database file here and in the checkout, with its size and mtime if any."""
    files = {folder / name for folder in (Path.cwd(), REPO) for name in DEFAULT_DATABASE_FILES}
    return {
        path: (path.stat().st_size, path.stat().st_mtime_ns) if path.exists() else None
        for path in sorted(files)
    }


@pytest.fixture(scope="session", autouse=True)
def no_default_database_files() -> Iterator[None]:
    """Every test keeps to a database of its own: the suite leaves the default files as it
    found them (absent, mostly)."""
    before = _default_database_files()
    yield
    after = _default_database_files()
    touched = [str(path) for path, seen in after.items() if seen != before[path]]
    assert not touched, f"the suite made or wrote the default database files: {touched}"


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    """A new database for this test: SQLite, or PostgreSQL with SIGNET_TEST_DATABASE_URL."""
    dialect = "postgresql" if SUITE_DATABASE_URL else "sqlite"
    async with empty_database(dialect, tmp_path) as url:
        yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    async with engine_with_tables(database_url) as engine:
        yield engine


@pytest.fixture
async def db_session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with create_db_sessions(engine)() as session:
        yield session


@pytest.fixture
def settings(database_url: str) -> Settings:
    return suite_settings(
        database_url,
        rate_limit_email_per_address_and_email=0,
        rate_limit_email_per_email=0,
        rate_limit_email_per_address=0,
        rate_limit_email_code_attempts=0,
        # The suite reads the OpenAPI document; production's default (off) has its own test.
        docs=True,
    )


@pytest.fixture
def verifier() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def tls_context() -> ssl.SSLContext:
    """Loaded once: building a verifying TLS context per client costs ~70 ms a test."""
    return ssl.create_default_context()


@pytest.fixture
async def http_client(tls_context: ssl.SSLContext) -> AsyncIterator[httpx.AsyncClient]:
    """The verifier's HTTP client; tests that reach it mock it with respx."""
    async with httpx.AsyncClient(verify=tls_context) as client:
        yield client


@pytest.fixture
async def app(
    request: pytest.FixtureRequest,
    settings: Settings,
    engine: AsyncEngine,
    verifier: FakeProvider,
    clock: FakeClock,
    http_client: httpx.AsyncClient,
) -> AsyncIterator[FastAPI]:
    """The app as configured by `settings`, running, with a fake clock and HTTP client in its
    Services and the fake provider through `dependency_overrides`.

    The engine fixture made the tables at `settings.database_url`, which the app opens itself.
    """
    marker = request.node.get_closest_marker("settings")
    if marker is not None:  # @pytest.mark.settings(name=value, ...) changes them for one test
        settings = Settings(**{**settings.model_dump(exclude_unset=True), **marker.kwargs})
    async with running(settings, clock=clock, http_client=http_client) as app:
        app.dependency_overrides[get_provider] = lambda: verifier
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(app) as client:
        yield client


@pytest.fixture
def real_verifier(app: FastAPI) -> Iterator[respx.MockRouter]:
    """The app's own Persona provider, its HTTP mocked with respx."""
    del app.dependency_overrides[get_provider]
    with respx.mock(assert_all_called=True) as router:
        yield router


@pytest.fixture
async def admin_key(app: FastAPI) -> str:
    """A live admin key of the app's database (made as `signet admin-keys create` makes one)."""
    return (await services_of(app).admin_keys.create("tests", actor=CLI)).key


@pytest.fixture
async def admin(app: FastAPI, admin_key: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the admin API: every request carries the admin key."""
    async with client_of(app) as client:
        client.headers["authorization"] = f"Bearer {admin_key}"
        yield client


@pytest.fixture
def authenticator() -> Authenticator:
    return Authenticator(origin=APP_ORIGIN)


@pytest.fixture
async def edith_with_a_passkey(
    client: httpx.AsyncClient, verifier: FakeProvider, authenticator: Authenticator
) -> dict[str, Any]:
    """Edith, signed in, with one passkey in `authenticator` (a software one); signed out."""
    await sign_in(client, verifier, EDITH)
    added = await add_passkey(client, authenticator, name="Laptop")
    await client.post("/auth/logout")
    client.cookies.clear()
    return added
