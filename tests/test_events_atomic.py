"""No change without its event, no event without its change; and event ids a reader can follow
with `after=` without ever missing one that commits later, however many writers there are."""

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

import api.auth.sessions
import api.store.sign_in_writer
from api.auth.events import CLI, USER_CREATED, NewEvent
from api.clock import utcnow
from api.services import services_of
from api.store.db import create_db_sessions
from api.store.events import append_events, events_after
from api.store.operator_tables import EventRow
from api.store.tables import SessionRow, User
from api.testing import FakeClock, FakeProvider
from tests.databases import count_rows

COOKIE = "__Host-signet_session"

EDITH = "edith@example.com"


def failing_after_the_events(module: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `module`'s append_events write the events, then fail before the commit (as a
    database that goes away at that moment would)."""

    async def append_then_fail(**arguments: Any) -> None:
        await append_events(**arguments)
        raise OperationalError("COMMIT", {}, Exception("the database went away"))

    monkeypatch.setattr(module, "append_events", append_then_fail)


async def test_a_sign_in_that_fails_after_its_events_leaves_no_user_session_or_event(
    client: httpx.AsyncClient,
    verifier: FakeProvider,
    db_session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verifier.accept("edith", email=EDITH)
    failing_after_the_events(api.store.sign_in_writer, monkeypatch)

    response = await client.post("/auth/login", json={"assertion": "edith"})

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert await count_rows(db_session, User) == 0
    assert await count_rows(db_session, SessionRow) == 0
    # A database failure is not a refused sign-in: there is no event at all.
    assert await count_rows(db_session, EventRow) == 0


async def test_a_sign_out_that_fails_after_its_event_leaves_the_session_and_no_event(
    app: FastAPI,
    client: httpx.AsyncClient,
    verifier: FakeProvider,
    clock: FakeClock,
    db_session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verifier.accept("edith", email=EDITH)
    token = (await client.post("/auth/login", json={"assertion": "edith"})).cookies[COOKIE]
    before = await count_rows(db_session, EventRow)
    failing_after_the_events(api.auth.sessions, monkeypatch)

    with pytest.raises(OperationalError):
        await services_of(app).sessions.set_disabled(EDITH, disabled=True, at=clock(), actor=CLI)

    assert await count_rows(db_session, EventRow) == before
    user = await db_session.get(User, EDITH, populate_existing=True)
    assert user is not None
    assert not user.disabled
    monkeypatch.undo()
    me = await client.get("/auth/me", headers={"cookie": f"{COOKIE}={token}"})
    assert me.status_code == 200


async def test_an_event_committed_after_a_later_ones_would_be_is_never_skipped(
    engine: AsyncEngine,
) -> None:
    """The first writer takes an id and has not committed when a second writer comes: the
    second must not commit a greater id first, or a reader that saw it would pass the first."""
    db_sessions = create_db_sessions(engine)

    def event(email: str) -> list[NewEvent]:
        return [NewEvent(USER_CREATED, at=utcnow(), actor=CLI, email=email)]

    async def second_writer() -> None:
        async with db_sessions() as db:
            await append_events(db=db, events=event("second@example.com"))
            await db.commit()

    async with db_sessions() as first, db_sessions() as reader:
        await append_events(db=first, events=event("first@example.com"))
        second = asyncio.create_task(second_writer())
        # Time for the second writer to commit, were it let through.
        await asyncio.wait([second], timeout=0.5)
        seen = await events_after(db=reader, limit=10)
        await reader.rollback()  # the next read takes a new snapshot
        await first.commit()
        await second
        after = seen[-1].id or 0 if seen else 0
        seen += await events_after(db=reader, after=after, limit=10)

    assert [row.email for row in seen] == ["first@example.com", "second@example.com"]
