"""Fixtures: an app on its own database, a fake verifier and clock, an HTTP client."""

import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import respx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.app import create_app
from api.config import Settings
from api.store.db import create_sessionmaker
from api.testing import FakeClock, FakeVerifier
from api.web.deps import get_http_client, get_verifier
from tests.databases import SUITE_DATABASE_URL, empty_database, engine_with_tables, use_engine

APP_ORIGIN = "https://app.example"
VERIFIER_URL = "https://verifier.example/verify"


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
    async with create_sessionmaker(engine)() as session:
        yield session


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        env="production",
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        verifier_url=VERIFIER_URL,
        audience=APP_ORIGIN,
        # Off unless a test is about them: many tests sign in again and again from one address.
        rate_limit_per_address=0,
        rate_limit_per_identity=0,
    )


@pytest.fixture
def verifier() -> FakeVerifier:
    return FakeVerifier()


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
def app(
    settings: Settings,
    engine: AsyncEngine,
    verifier: FakeVerifier,
    clock: FakeClock,
    http_client: httpx.AsyncClient,
) -> FastAPI:
    """The app as configured by `settings`, its outside world replaced through dependencies."""
    app = create_app(settings)
    use_engine(app, engine)
    app.dependency_overrides[get_http_client] = lambda: http_client
    app.dependency_overrides[get_verifier] = lambda: verifier
    app.state.clock = clock
    return app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=APP_ORIGIN) as client:
        yield client


@pytest.fixture
def real_verifier(app: FastAPI) -> Iterator[respx.MockRouter]:
    """The app's own Persona verifier, its HTTP mocked with respx."""
    del app.dependency_overrides[get_verifier]
    with respx.mock(assert_all_called=True) as router:
        yield router
