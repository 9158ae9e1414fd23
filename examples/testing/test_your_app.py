"""Testing an application built on Signet (docs/testing.md quotes this file; the suite runs it)."""

from pathlib import Path

import httpx
import pytest
from sqlmodel import SQLModel

from api.app import create_app
from api.config import Settings
from api.services import open_services
from api.store.db import create_engine
from api.testing import FakeClock, FakeProvider, log_in_as
from api.web.deps import get_provider


@pytest.fixture
async def settings(tmp_path: Path) -> Settings:
    """Signet's settings for one test: a SQLite file of its own, with Signet's tables in it."""
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'signet.db'}",
        secret_key="a-test-secret-key-of-32-characters-or-more",
        verifier_url="https://verifier.example/verify",  # never asked: FakeProvider answers
        audience="https://app.example",
    )
    engine = create_engine(settings.database_url)
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
    await engine.dispose()
    return settings


async def test_edith_signs_in(settings: Settings) -> None:
    app = create_app(settings)
    provider = FakeProvider()
    provider.accept("any-assertion", email="edith@example.com")
    app.dependency_overrides[get_provider] = lambda: provider

    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="https://app.example") as client,
    ):
        await client.post("/auth/login", json={"assertion": "any-assertion"})
        me = await client.get("/auth/me")

    assert me.json()["email"] == "edith@example.com"
    assert provider.seen == ["any-assertion"]


async def test_someone_signed_in_in_one_line(settings: Settings) -> None:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="https://app.example") as client,
    ):
        await log_in_as(client, "edith@example.com", app=app)

        assert (await client.get("/auth/me")).json()["email"] == "edith@example.com"


async def test_a_session_unused_for_its_idle_timeout_ends(settings: Settings) -> None:
    clock = FakeClock()
    provider = FakeProvider()
    provider.accept("any-assertion", email="edith@example.com")
    async with open_services(settings, clock=clock, provider=provider) as services:
        app = create_app(services=services)
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="https://app.example") as client,
        ):
            await client.post("/auth/login", json={"assertion": "any-assertion"})
            assert (await client.get("/auth/me")).status_code == 200

            clock.advance(settings.session_idle_timeout + 1)  # the app's time, not the test's

            assert (await client.get("/auth/me")).status_code == 401
