"""Testing an application built on Signet (docs/testing.md quotes this file; the suite runs it)."""

import re
from pathlib import Path

import httpx
import pytest
from sqlmodel import SQLModel

from api.app import create_app
from api.config import Settings
from api.mail.outbox import Outbox
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


async def test_edith_signs_in_with_an_emailed_code(settings: Settings) -> None:
    email_settings = Settings(
        database_url=settings.database_url,
        secret_key="a-test-secret-key-of-32-characters-or-more",
        providers="email",
        public_url="https://app.example",
        smtp_url="smtp://mail.example",  # never asked: the outbox keeps the messages
        email_from="no-reply@app.example",
    )
    outbox = Outbox()
    async with open_services(email_settings, mailer=outbox) as services:
        app = create_app(services=services)
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="https://app.example") as client,
        ):
            await client.post("/auth/email/start", json={"email": "edith@example.com"})
            message = outbox.messages[-1].get_body(preferencelist=("plain",))
            assert message is not None
            code = re.search(r"^[0-9]{6}$", message.get_content(), re.MULTILINE)
            assert code is not None
            body = {"email": "edith@example.com", "code": code[0]}
            await client.post("/auth/email/verify", json=body)

            assert (await client.get("/auth/me")).json()["email"] == "edith@example.com"
