"""Session rows: started with the user, ended on logout, purged once expired."""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from api.config import Settings
from api.store.db import create_db_sessions
from api.store.sessions import StartedSession, delete_expired_sessions, find_live_session
from api.store.sign_in_writer import Login, write_sign_ins
from api.store.tables import SessionRow, UserPublic
from tests.apps import running

T0 = datetime(2026, 6, 1, tzinfo=UTC)
DAY = 24 * 3600


async def sign_in_one(
    session: AsyncSession, *, email: str, now: datetime, lifetime: int
) -> tuple[UserPublic, StartedSession]:
    (written,) = await write_sign_ins(
        db=session, logins=[Login(email=email, now=now, lifetime=lifetime)]
    )
    assert not isinstance(written, Exception)
    user, started, _ = written
    return user, started


async def test_sign_in_writes_the_user_and_a_session_together(db_session: AsyncSession) -> None:
    user, login_session = await sign_in_one(
        db_session, email="edith@example.com", now=T0, lifetime=30 * DAY
    )

    assert login_session.email == user.email
    assert login_session.expires_at == T0 + timedelta(days=30)
    assert len(login_session.id) >= 32
    found = await find_live_session(db=db_session, session_id=login_session.id, now=T0)
    assert found is not None
    assert found.user.email == "edith@example.com"


async def test_a_session_row_past_its_cap_finds_no_user(db_session: AsyncSession) -> None:
    _, login_session = await sign_in_one(db_session, email="e@example.com", now=T0, lifetime=60)

    live = await find_live_session(
        db=db_session, session_id=login_session.id, now=T0 + timedelta(seconds=60)
    )

    assert live is None


async def test_purge_deletes_only_expired_rows(db_session: AsyncSession) -> None:
    for lifetime in (DAY, 2 * DAY, 3 * DAY):
        (
            await write_sign_ins(
                db=db_session,
                logins=[Login(email="edith@example.com", now=T0, lifetime=lifetime)],
            )
        )[0]

    purged = await delete_expired_sessions(db=db_session, now=T0 + timedelta(days=2))

    assert purged == 2
    remaining = (await db_session.scalars(select(col(SessionRow.expires_at)))).all()
    assert remaining == [T0 + timedelta(days=3)]


async def test_the_purge_task_purges_as_soon_as_it_starts(
    engine: AsyncEngine, settings: Settings
) -> None:
    sessions = create_db_sessions(engine)
    async with sessions() as session:
        (
            await write_sign_ins(
                db=session, logins=[Login(email="old@example.com", now=T0, lifetime=DAY)]
            )
        )[0]

    async with running(settings), asyncio.timeout(5):  # the lifespan starts the purge task
        while True:  # wait for the condition: the expired row is gone
            async with sessions() as session:
                if not (await session.scalars(select(SessionRow))).all():
                    break
            await asyncio.sleep(0)
