"""upsert_users: one statement, race-safe, on SQLite and PostgreSQL."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.config import Settings
from api.store.db import create_db_sessions
from api.store.tables import SessionRow, User, UserPublic
from api.store.users import get_user, upsert_users
from api.testing import FakeProvider
from tests.apps import serving
from tests.databases import empty_database, engine_with_tables

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


async def stamp(session: AsyncSession, email: str, now: datetime) -> UserPublic:
    """Upsert one user, as a login does."""
    return (await upsert_users(db=session, logins={email: now}))[email]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
async def any_engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An empty database of each dialect Signet supports."""
    async with empty_database(request.param, tmp_path) as url, engine_with_tables(url) as engine:
        yield engine


def on(engine: AsyncEngine, settings: Settings) -> Settings:
    """`settings` pointed at the database of `engine`."""
    return settings.model_copy(
        update={"database_url": engine.url.render_as_string(hide_password=False)}
    )


async def test_first_upsert_creates_the_user(any_engine: AsyncEngine) -> None:
    async with create_db_sessions(any_engine)() as session:
        user = (await upsert_users(db=session, logins={"edith@example.com": T0}))[
            "edith@example.com"
        ]
        await session.commit()

    assert (user.email, user.created_at, user.last_login) == ("edith@example.com", T0, T0)


async def test_later_upsert_stamps_last_login_only(any_engine: AsyncEngine) -> None:
    later = T0 + timedelta(days=2)
    sessions = create_db_sessions(any_engine)
    async with sessions() as session:
        await stamp(session, "edith@example.com", T0)
        await session.commit()
    async with sessions() as session:
        user = (await upsert_users(db=session, logins={"edith@example.com": later}))[
            "edith@example.com"
        ]
        await session.commit()

    assert (user.created_at, user.last_login) == (T0, later)
    async with sessions() as session:
        stored = await get_user(db=session, email="edith@example.com")
    assert stored is not None
    assert (stored.created_at, stored.last_login) == (T0, later)


async def test_timestamps_come_back_in_utc(any_engine: AsyncEngine) -> None:
    in_paris = T0.astimezone(timezone(timedelta(hours=1)))
    async with create_db_sessions(any_engine)() as session:
        (await upsert_users(db=session, logins={"edith@example.com": in_paris}))[
            "edith@example.com"
        ]
        await session.commit()
    async with create_db_sessions(any_engine)() as session:
        stored = await get_user(db=session, email="edith@example.com")

    assert stored is not None
    assert stored.created_at == T0
    assert stored.created_at.utcoffset() == timedelta(0)


async def test_fifty_simultaneous_first_logins_of_one_email_all_succeed_and_leave_one_row(
    any_engine: AsyncEngine, settings: Settings
) -> None:
    verifier = FakeProvider()
    verifier.accept("a", email="new@example.com")
    async with serving(on(any_engine, settings), provider=verifier) as client:
        responses = await asyncio.gather(
            *(client.post("/auth/login", json={"assertion": "a"}) for _ in range(50))
        )

    assert [response.status_code for response in responses] == [200] * 50
    assert {response.json()["email"] for response in responses} == {"new@example.com"}
    async with create_db_sessions(any_engine)() as session:
        assert (await session.scalars(select(func.count()).select_from(User))).one() == 1


async def test_a_storm_of_500_concurrent_logins_over_50_emails_leaves_50_users(
    any_engine: AsyncEngine, settings: Settings
) -> None:
    verifier = FakeProvider()
    emails = [f"user{number}@example.com" for number in range(50)]
    for email in emails:
        verifier.accept(email, email=email)
    async with serving(on(any_engine, settings), provider=verifier) as client:
        responses = await asyncio.gather(
            *(client.post("/auth/login", json={"assertion": emails[n % 50]}) for n in range(500))
        )

    assert [response.status_code for response in responses] == [200] * 500
    async with create_db_sessions(any_engine)() as session:
        assert (await session.scalars(select(func.count()).select_from(User))).one() == 50
        assert (await session.scalars(select(func.count()).select_from(SessionRow))).one() == 500
