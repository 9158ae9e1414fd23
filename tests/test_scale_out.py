"""Two real uvicorn processes on one PostgreSQL: every session rule holds across them."""

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.databases import empty_database
from tests.servers import Server

pytestmark = pytest.mark.postgresql


@pytest.fixture
async def database_on_postgres(tmp_path: Path) -> AsyncIterator[str]:
    async with empty_database("postgresql", tmp_path) as url:
        yield url


@pytest.fixture
def workers(database_on_postgres: str, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    """Two workers sharing the database and the secret key, and nothing else."""
    shared = {
        "SIGNET_DATABASE_URL": database_on_postgres,
        "SIGNET_SECRET_KEY": secrets.token_urlsafe(32),
        "SIGNET_AUDIENCE": "https://app.example",
        # Strict revocation: within the cache TTL a revoked session may outlive it elsewhere.
        "SIGNET_SESSION_CACHE_TTL": "0",
    }
    first = Server(tmp_path, name="first", environment=shared)
    second = Server(tmp_path, name="second", environment=shared, migrate=False)
    yield first, second
    first.stop()
    second.stop()


def sign_in_through(worker: Server, email: str) -> str:
    """Sign in with the worker's development identity provider; returns the session cookie."""
    assertion = httpx.post(
        f"{worker.url}/dev-idp/assertions", json={"email": email, "audience": "https://app.example"}
    ).json()["assertion"]
    login = httpx.post(f"{worker.url}/auth/login", json={"assertion": assertion})
    assert login.status_code == 200, login.text
    return login.cookies["__Host-signet_session"]


def me(worker: Server, cookie: str) -> int:
    return httpx.get(f"{worker.url}/auth/me", cookies={"__Host-signet_session": cookie}).status_code


def test_sessions_logout_and_logout_everywhere_hold_across_workers(
    workers: tuple[Server, Server],
) -> None:
    first, second = workers

    # A session started on one worker is good on the other.
    cookie = sign_in_through(first, "edith@example.com")
    assert me(second, cookie) == 200

    # Logging out on the other worker ends it on the first.
    httpx.post(f"{second.url}/auth/logout", cookies={"__Host-signet_session": cookie})
    assert me(first, cookie) == 401

    # Logging out everywhere on one worker ends every session, whichever worker started it.
    phone = sign_in_through(first, "edith@example.com")
    laptop = sign_in_through(second, "edith@example.com")
    everywhere = httpx.post(
        f"{first.url}/auth/logout-everywhere", cookies={"__Host-signet_session": phone}
    )
    assert everywhere.status_code == 204
    assert (me(second, phone), me(second, laptop)) == (401, 401)

    # And a session started afterwards works on both.
    fresh = sign_in_through(second, "edith@example.com")
    assert (me(first, fresh), me(second, fresh)) == (200, 200)
