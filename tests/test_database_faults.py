"""Fault drills: the database down, unreachable, and back, without a restart."""

import asyncio
import contextlib
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from api.auth.tokens import TokenKind, issue_token
from api.config import Settings
from api.testing import FakeClock, FakeProvider
from tests.apps import serving
from tests.databases import empty_database, engine_with_tables

UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:1/test"


@pytest.fixture
def verifier(verifier: FakeProvider) -> FakeProvider:
    verifier.accept("edith", email="edith@example.com")
    return verifier


async def test_ready_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "policy": response.json()["policy"]}


async def test_not_ready_on_a_database_never_migrated(tmp_path: Path) -> None:
    settings = Settings(
        env="production",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}",
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        verifier_url="https://verifier.example/verify",
        audience="https://app.example",
    )
    async with serving(settings) as client:
        response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "run signet migrate" in response.json()["detail"]


# The app with its database out of reach (nothing listens on the port).
no_database = pytest.mark.settings(
    database_url=UNREACHABLE, database_connect_timeout=1, database_pool_timeout=1
)


@no_database
async def test_without_a_database_the_process_lives_but_is_not_ready(
    client: httpx.AsyncClient,
) -> None:
    started = time.monotonic()

    health = await client.get("/healthz")
    ready = await client.get("/readyz")

    assert health.status_code == 200
    assert ready.status_code == 503
    assert ready.headers["content-type"] == "application/problem+json"
    assert time.monotonic() - started < 5


@no_database
async def test_without_a_database_login_and_me_are_503_problems(
    client: httpx.AsyncClient, settings: Settings, clock: FakeClock
) -> None:
    token = issue_token(
        settings=settings,
        kind=TokenKind.COOKIE,
        session_id="a-session",
        started_at=clock(),
        now=clock(),
    )

    login = await client.post("/auth/login", json={"assertion": "edith"})
    me = await client.get("/auth/me", headers={"cookie": f"__Host-signet_session={token}"})

    for response in (login, me):
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "urn:signet:problem:database-unavailable"
        assert int(response.headers["retry-after"]) > 0
    assert "set-cookie" not in login.headers


class Proxy:
    """A TCP relay to the database that the test can cut and restore, as a network would."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        await self._server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        pipes = [
            asyncio.ensure_future(self._pipe(reader, upstream_writer)),
            asyncio.ensure_future(self._pipe(upstream_reader, writer)),
        ]
        self._pipes.update(pipes)
        try:
            await asyncio.gather(*pipes)
        except asyncio.CancelledError:
            pass
        finally:
            self._pipes.difference_update(pipes)
            for stream in (writer, upstream_writer):
                stream.close()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()


@pytest.mark.postgresql
async def test_everything_recovers_when_the_database_returns(
    settings: Settings, verifier: FakeProvider, clock: FakeClock, tmp_path: Path
) -> None:
    async with empty_database("postgresql", tmp_path) as url:
        async with engine_with_tables(url):
            pass
        target = make_url(url)
        proxy = Proxy(target.host or "127.0.0.1", target.port or 5432)
        await proxy.start()
        via_proxy = target.set(host="127.0.0.1", port=proxy.port)
        proxied = settings.model_copy(
            update={
                "database_url": via_proxy.render_as_string(hide_password=False),
                "database_connect_timeout": 1,
                "database_pool_timeout": 1,
            }
        )
        async with serving(proxied, clock=clock, provider=verifier) as client:
            try:
                before = await client.post("/auth/login", json={"assertion": "edith"})

                await proxy.cut()
                down = await client.post("/auth/login", json={"assertion": "edith"})
                not_ready = await client.get("/readyz")

                await proxy.start()  # the same port again
                back = await client.post("/auth/login", json={"assertion": "edith"})
                ready = await client.get("/readyz")
            finally:
                await proxy.cut()  # before the app stops: its engine closes dead connections

    assert before.status_code == 200
    assert (down.status_code, not_ready.status_code) == (503, 503)
    assert (back.status_code, ready.status_code) == (200, 200)


async def test_a_database_never_migrated_is_a_503_saying_so_not_a_500(
    settings: Settings, verifier: FakeProvider
) -> None:
    # No engine fixture: this database has no tables at all.
    token = issue_token(
        settings=settings,
        kind=TokenKind.COOKIE,
        session_id="s",
        started_at=FakeClock()(),
        now=FakeClock()(),
    )
    async with serving(settings, provider=verifier, clock=FakeClock()) as client:
        login = await client.post("/auth/login", json={"assertion": "edith"})
        me = await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        client.cookies.set(settings.session_cookie_name, token)
        cookie = await client.get("/auth/me")

    assert login.status_code == 503
    assert login.json()["type"] == "urn:signet:problem:schema-out-of-date"
    assert "run signet migrate" in login.json()["detail"]
    assert me.status_code in (401, 503)
    assert cookie.status_code == 503
    assert cookie.json()["type"] == "urn:signet:problem:schema-out-of-date"
