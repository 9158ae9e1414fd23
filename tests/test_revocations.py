"""Revocations reach every worker sharing the database at once, not after the cache TTL: a
shared file beside SQLite, LISTEN/NOTIFY on PostgreSQL. Each "worker" here is an app with its
own Services (and so its own session cache) on one database."""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.auth.events import ADMIN, CLI
from api.clock import utcnow
from api.config import DatabaseSettings, Settings
from api.database import open_database
from api.services import open_services
from api.testing import FakeProvider
from tests.apps import suite_settings, two_workers
from tests.databases import empty_database, engine_with_tables

COOKIE = "__Host-signet_session"
# Far longer than any test: a revoked session refused on another worker was told, not timed out.
CACHE_TTL = 60.0
# NOTIFY is delivered a moment after the commit; the bound is 100 ms at p99.
DELIVERY_DEADLINE = 1.0


@pytest.fixture(params=["sqlite", "postgresql"])
async def shared_settings(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Settings]:
    async with empty_database(request.param, tmp_path) as url, engine_with_tables(url):
        yield suite_settings(url, session_cache_ttl=CACHE_TTL)


@pytest.fixture
def verifier(verifier: FakeProvider) -> FakeProvider:
    verifier.accept("edith", email="edith@example.com")
    return verifier


async def refused_within(client: httpx.AsyncClient, token: str, deadline: float) -> bool:
    """Whether the worker behind `client` refuses `token` before `deadline` seconds pass."""
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        response = await client.get("/auth/me", headers={"cookie": f"{COOKIE}={token}"})
        if response.status_code == 401:
            return True
        # In process, a cached check never waits on I/O, so without a pause between polls the
        # event loop would never read the notification this is waiting for.
        await asyncio.sleep(0.001)
    return False


async def signed_in_on_both(
    one: httpx.AsyncClient, two: httpx.AsyncClient
) -> tuple[str, httpx.Response]:
    login = await one.post("/auth/login", json={"assertion": "edith"})
    token = login.cookies[COOKIE]
    for client in (one, two):  # now in both workers' caches
        assert (await client.get("/auth/me", headers={"cookie": f"{COOKIE}={token}"})).is_success
    return token, login


@pytest.mark.parametrize("ending", ["logout", "logout-everywhere", "delete-session"])
async def test_a_revocation_on_one_worker_is_refused_on_the_other_at_once(
    shared_settings: Settings, verifier: FakeProvider, ending: str
) -> None:
    async with two_workers(shared_settings, provider=verifier) as (one, two):
        token, _ = await signed_in_on_both(one, two)
        cookie = {"cookie": f"{COOKIE}={token}"}

        if ending == "delete-session":
            (listed,) = (await one.get("/auth/sessions", headers=cookie)).json()
            ended = await one.delete(f"/auth/sessions/{listed['id']}", headers=cookie)
        else:
            ended = await one.post(f"/auth/{ending}", headers=cookie)

        assert ended.status_code == 204
        assert await refused_within(two, token, DELIVERY_DEADLINE)


async def test_a_revocation_from_the_command_line_reaches_running_workers(
    shared_settings: Settings, verifier: FakeProvider
) -> None:
    async with two_workers(shared_settings, provider=verifier) as (one, two):
        token, _ = await signed_in_on_both(one, two)

        async with open_services(shared_settings) as command_line:  # no app, no listener
            assert await command_line.auth.sign_out_everywhere("edith@example.com") == 1

        assert await refused_within(one, token, DELIVERY_DEADLINE)
        assert await refused_within(two, token, DELIVERY_DEADLINE)


async def test_a_revocation_by_a_command_that_reads_only_the_database_reaches_running_workers(
    shared_settings: Settings, verifier: FakeProvider
) -> None:
    """`signet users revoke` and `delete` read SIGNET_DATABASE_URL alone: that is enough for
    NOTIFY on PostgreSQL and the revocation file beside a SQLite database."""
    only_the_database = DatabaseSettings(database_url=shared_settings.database_url)
    async with two_workers(shared_settings, provider=verifier) as (one, two):
        token, _ = await signed_in_on_both(one, two)

        async with open_database(only_the_database) as command_line:
            revoked = await command_line.sessions.revoke_user(
                "edith@example.com", at=utcnow(), actor=CLI, reason=ADMIN
            )
            assert revoked == 1

        assert await refused_within(one, token, DELIVERY_DEADLINE)
        assert await refused_within(two, token, DELIVERY_DEADLINE)


async def test_other_users_sessions_keep_working_after_a_revocation(
    shared_settings: Settings, verifier: FakeProvider
) -> None:
    verifier.accept("zoe", email="zoe@example.com")
    async with two_workers(shared_settings, provider=verifier) as (one, two):
        token, _ = await signed_in_on_both(one, two)
        one.cookies.clear()
        other = (await one.post("/auth/login", json={"assertion": "zoe"})).cookies[COOKIE]
        await one.post("/auth/logout", headers={"cookie": f"{COOKIE}={token}"})
        assert await refused_within(two, token, DELIVERY_DEADLINE)

        answer = await two.get("/auth/me", headers={"cookie": f"{COOKIE}={other}"})

        assert answer.json()["email"] == "zoe@example.com"
