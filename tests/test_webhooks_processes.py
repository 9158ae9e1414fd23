"""Webhooks from real `signet serve` processes: killed mid-delivery and restarted, nothing is
lost and nothing invented; two hosts on one PostgreSQL deliver each event once."""

import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from api.store.db import create_engine
from api.store.operator_tables import EventRow, WebhookDelivery, WebhookState
from api.webhooks.config import DEFAULT_EVENTS, matches
from tests.databases import empty_database, sqlite_url
from tests.servers import Server
from tests.webhook_receiver import SECRET, Received, Receiver, eventually, receiving


def webhook_environment(receiver: Receiver, **more: str) -> dict[str, str]:
    return {
        "SIGNET_WEBHOOKS": "hook",
        "SIGNET_WEBHOOK_HOOK_URL": receiver.url,
        "SIGNET_WEBHOOK_HOOK_SECRET": SECRET,
        "SIGNET_WEBHOOKS_RETRY_MIN": "0.05",
        "SIGNET_WEBHOOKS_RETRY_MAX": "0.2",
        **more,
    }


def sign_in(server: Server, email: str) -> None:
    """A sign-in through the server's development identity provider."""
    audience = server.environment["SIGNET_AUDIENCE"]
    assertion = httpx.post(
        f"{server.url}/dev-idp/assertions", json={"email": email, "audience": audience}
    ).json()["assertion"]
    login = httpx.post(f"{server.url}/auth/login", json={"assertion": assertion})
    assert login.status_code == 200, login.text


class Database:
    """The test's view of the servers' database."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)

    async def owed(self) -> set[int]:
        """The ids of every event the webhook wants (all but sign_in.failed)."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(select(col(EventRow.id), col(EventRow.type)))
        return {int(id_ or 0) for id_, type_ in rows if matches(DEFAULT_EVENTS, type_)}

    async def seen(self) -> bool:
        async with self.engine.connect() as connection:
            return (await connection.scalar(select(col(WebhookState.name)))) is not None

    async def all_delivered(self) -> bool:
        async with self.engine.connect() as connection:
            statuses = set(await connection.scalars(select(col(WebhookDelivery.status))))
        return statuses == {"delivered"}


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(sqlite_url(tmp_path))
    yield database
    await database.engine.dispose()


def slowly(_: Received) -> tuple[int, dict[str, str]]:
    time.sleep(0.2)  # the receiver's own thread: deliveries are in flight when Signet dies
    return 204, {}


async def test_a_server_killed_mid_delivery_and_restarted_delivers_every_event_none_invented(
    tmp_path: Path, sqlite_database: Database
) -> None:
    with receiving(answer=slowly) as receiver:
        environment = webhook_environment(receiver)
        server = Server(tmp_path, name="first", environment=environment)
        try:
            await eventually(sqlite_database.seen)
            for number in range(8):
                sign_in(server, f"user{number}@example.com")
            await eventually(lambda: len(receiver.received) >= 2)
        finally:
            server.process.kill()  # SIGKILL: no lifespan shutdown, claims held
            server.process.wait()
        assert len(set(receiver.ids())) < len(await sqlite_database.owed())  # mid-burst

        restarted = Server(tmp_path, name="restarted", environment=environment, migrate=False)
        try:
            for number in range(8, 12):
                sign_in(restarted, f"user{number}@example.com")
            owed = await sqlite_database.owed()
            await eventually(lambda: set(receiver.ids()) == owed, within=20)
        finally:
            restarted.stop()

    # user.created, identity.linked and session.created for each of twelve sign-ins.
    assert len(owed) == 36
    assert set(receiver.ids()) == owed  # every one arrived, and none that was not an event
    assert all(got.verified == (True,) for got in receiver.received)


@pytest.mark.postgresql
async def test_two_hosts_on_postgresql_deliver_each_event_once(tmp_path: Path) -> None:
    async with empty_database("postgresql", tmp_path) as url:
        database = Database(url)
        try:
            await _two_hosts(tmp_path, url, database)
        finally:
            await database.engine.dispose()


async def _two_hosts(tmp_path: Path, url: str, database: Database) -> None:
    with receiving() as receiver:
        shared = webhook_environment(
            receiver,
            SIGNET_DATABASE_URL=url,
            SIGNET_SECRET_KEY=secrets.token_urlsafe(32),
            SIGNET_AUDIENCE="https://app.example",
        )
        first = Server(tmp_path, name="first", environment=shared)
        second = Server(tmp_path, name="second", environment=shared, migrate=False)
        try:
            await eventually(database.seen)
            for number in range(20):
                sign_in((first, second)[number % 2], f"user{number}@example.com")
            owed = await database.owed()
            await eventually(lambda: set(receiver.ids()) == owed, within=20)
            await eventually(database.all_delivered)
        finally:
            first.stop()
            second.stop()

    assert len(owed) == 60
    assert sorted(receiver.ids()) == sorted(owed)  # each once
