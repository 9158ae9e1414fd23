"""Groups as clients and backends see them (issue 22): in the user's body (`/auth/me`, the login
answer), in introspection and in the OpenAPI document; read with the session, so a cached session
shows a change of groups at its very next check, on every worker."""

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.events import CLI
from api.auth.group_changes import change_groups
from api.auth.session_cache import token_digest
from api.auth.sessions import Sessions
from api.clock import utcnow
from api.config import DatabaseSettings, Settings
from api.database import open_database
from api.services import services_of
from api.store.groups import (
    INVITATION,
    MANUAL,
    add_groups,
    replace_provider_groups,
)
from api.testing import FakeClock, FakeProvider
from tests.apps import APP_ORIGIN, VERIFIER_URL, client_of, running, suite_settings, two_workers
from tests.databases import empty_database, engine_with_tables

EDITH = "edith@example.com"
COOKIE = "__Host-signet_session"
CLIENT = ("billing", "billing-secret-0123456789")


@pytest.fixture
def verifier(verifier: FakeProvider) -> FakeProvider:
    verifier.accept("edith", email=EDITH)
    return verifier


async def me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/auth/me", headers={"cookie": f"{COOKIE}={token}"})


async def sign_in(client: httpx.AsyncClient) -> str:
    login = await client.post("/auth/login", json={"assertion": "edith"})
    assert login.status_code == 200
    client.cookies.clear()
    return login.cookies[COOKIE]


async def adding(sessions: Sessions, *names: str) -> list[str]:
    """Add EDITH to groups by hand, as `signet groups add` does; the names added."""
    changed = await change_groups(sessions, EDITH, at=utcnow(), actor=CLI, add=names)
    assert changed is not None
    return changed.added


async def test_a_login_answer_has_groups_and_me_shows_every_sources_sorted(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    login = await client.post("/auth/login", json={"assertion": "edith"})
    assert login.json()["groups"] == []
    await add_groups(db=db_session, email=EDITH, names=["staff", "ops"], source=MANUAL)
    await add_groups(db=db_session, email=EDITH, names=["beta", "ops"], source=INVITATION)
    await replace_provider_groups(db=db_session, email=EDITH, provider="corp", names=["admins"])
    await db_session.commit()

    response = await client.get("/auth/me")

    assert response.status_code == 200
    assert response.json()["groups"] == ["admins", "beta", "ops", "staff"]
    assert response.json()["email"] == EDITH


async def test_a_user_in_no_group_has_an_empty_list(client: httpx.AsyncClient) -> None:
    await client.post("/auth/login", json={"assertion": "edith"})

    assert (await client.get("/auth/me")).json()["groups"] == []


@pytest.fixture
async def cached_app(
    settings: Settings, engine: object, verifier: FakeProvider, clock: FakeClock
) -> AsyncIterator[FastAPI]:
    """The app with a long session cache whose timer is the test's clock, which stands still:
    whatever a check reads afresh, the cache did not time out."""
    cached = Settings(**{**settings.model_dump(exclude_unset=True), "session_cache_ttl": 60.0})
    async with running(
        cached, clock=clock, timer=lambda: clock().timestamp(), provider=verifier
    ) as app:
        yield app


async def test_a_group_change_shows_at_once_on_a_cached_session(
    cached_app: FastAPI, db_session: AsyncSession
) -> None:
    sessions = services_of(cached_app).sessions
    async with client_of(cached_app) as client:
        token = await sign_in(client)
        assert (await me(client, token)).json()["groups"] == []
        assert sessions.cached(token_digest("cookie", token)) is not None
        # Written behind Signet's back, unannounced: the cached answer stands.
        await add_groups(db=db_session, email=EDITH, names=["quiet"], source=MANUAL)
        await db_session.commit()
        assert (await me(client, token)).json()["groups"] == []

        added = await adding(sessions, "staff", "ops")

        assert added == ["ops", "staff"]
        # Read afresh, the hand-written group too (on PostgreSQL the process's own notice may
        # evict the entry once more when it arrives: whether it is cached again is a race).
        assert (await me(client, token)).json()["groups"] == ["ops", "quiet", "staff"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
async def shared_settings(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Settings]:
    async with empty_database(request.param, tmp_path) as url, engine_with_tables(url):
        yield suite_settings(url, session_cache_ttl=60.0)


async def groups_within(client: httpx.AsyncClient, token: str, deadline: float) -> list[str]:
    """The groups /auth/me shows once they are not [] any more, or [] after `deadline` s."""
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        groups: list[str] = (await me(client, token)).json()["groups"]
        if groups:
            return groups
        await asyncio.sleep(0.001)  # let the event loop read the notification
    return []


async def test_a_group_change_on_one_worker_shows_on_anothers_cached_session(
    shared_settings: Settings, verifier: FakeProvider
) -> None:
    async with (
        running(shared_settings, provider=verifier) as first,
        running(shared_settings, provider=verifier) as second,
        client_of(first) as one,
        client_of(second) as two,
    ):
        token = await sign_in(one)
        assert (await me(two, token)).json()["groups"] == []
        assert services_of(second).sessions.cached(token_digest("cookie", token)) is not None

        await adding(services_of(first).sessions, "staff")

        assert await groups_within(two, token, 1.0) == ["staff"]


async def test_on_sqlite_a_group_change_reaches_the_other_workers_cached_session_at_once(
    tmp_path: Path, verifier: FakeProvider, clock: FakeClock
) -> None:
    """Two workers on one SQLite file, their cache timer the test's clock, which stands still:
    their cached answers never time out. A change of groups made elsewhere (as `signet groups`
    makes it: SIGNET_DATABASE_URL alone) shows on both at their very next check, added and
    removed alike: the shared generation file is read on every check, so nothing is awaited."""
    async with empty_database("sqlite", tmp_path) as url, engine_with_tables(url):
        settings = Settings(
            env="production",
            database_url=url,
            secret_key="test-secret-key-that-is-long-enough-0123456789",
            verifier_url=VERIFIER_URL,
            audience=APP_ORIGIN,
            rate_limit_per_address=0,
            rate_limit_per_identity=0,
            session_cache_ttl=60.0,
        )
        frozen = {"clock": clock, "timer": lambda: clock().timestamp(), "provider": verifier}
        async with (
            two_workers(settings, **frozen) as (one, two),
            open_database(DatabaseSettings(database_url=url)) as command_line,
        ):
            token = await sign_in(one)
            for worker in (one, two):
                assert (await me(worker, token)).json()["groups"] == []
            # Written unannounced: each worker's cached answer stands (it was cached).
            async with command_line.db_sessions() as db:
                await add_groups(db=db, email=EDITH, names=["quiet"], source=MANUAL)
                await db.commit()
            for worker in (one, two):
                assert (await me(worker, token)).json()["groups"] == []

            await adding(command_line.sessions, "admins")

            for worker in (one, two):
                assert (await me(worker, token)).json()["groups"] == ["admins", "quiet"]

            await change_groups(
                command_line.sessions, EDITH, at=utcnow(), actor=CLI, remove=["admins", "quiet"]
            )

            for worker in (one, two):
                assert (await me(worker, token)).json()["groups"] == []


@pytest.mark.settings(introspection_clients=":".join(CLIENT))
async def test_introspection_shows_the_groups(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    token = (await client.post("/auth/token", json={"assertion": "edith"})).json()["access_token"]
    await add_groups(db=db_session, email=EDITH, names=["staff", "billing"], source=MANUAL)
    await db_session.commit()
    basic = base64.b64encode(":".join(CLIENT).encode()).decode()

    response = await client.post(
        "/auth/introspect", data={"token": token}, headers={"authorization": f"Basic {basic}"}
    )

    assert response.json()["active"] is True
    assert response.json()["groups"] == ["billing", "staff"]


async def test_the_openapi_document_has_the_users_groups(client: httpx.AsyncClient) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]

    groups = schemas["UserPublic"]["properties"]["groups"]
    assert groups["type"] == "array"
    assert groups["items"] == {"type": "string"}
    assert "sorted" in groups["description"]
