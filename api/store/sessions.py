"""Data functions for login sessions: a row per live session; no row, no session."""

import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from api.store.tables import LoginSession, User


def new_session_id() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True, slots=True)
class StartedSession:
    """A session row just written."""

    id: str
    email: str
    created_at: datetime
    expires_at: datetime


async def start_sessions(
    *, session: AsyncSession, starts: Sequence[tuple[str, datetime, int]]
) -> list[StartedSession]:
    """A new session per (email, start, lifetime in seconds), in one INSERT; the caller commits."""
    started = [
        StartedSession(
            id=new_session_id(),
            email=email,
            created_at=now,
            expires_at=now + timedelta(seconds=lifetime),
        )
        for email, now, lifetime in starts
    ]
    # A Core INSERT of plain rows: the ORM's per-object bookkeeping is most of the cost otherwise.
    table = SQLModel.metadata.tables[LoginSession.__tablename__]
    await session.execute(insert(table), [asdict(row) for row in started])
    return started


async def get_session_user(*, session: AsyncSession, session_id: str, now: datetime) -> User | None:
    """The user of a live session, in one query; None once it ended or expired."""
    statement = (
        select(User)
        .join(LoginSession, col(LoginSession.email) == User.email)
        .where(col(LoginSession.id) == session_id, col(LoginSession.expires_at) > now)
    )
    user: User | None = (await session.scalars(statement)).one_or_none()
    return user


async def end_session(*, session: AsyncSession, session_id: str) -> None:
    """End one session, wherever its tokens are."""
    await session.execute(delete(LoginSession).where(col(LoginSession.id) == session_id))
    await session.commit()


async def end_all_sessions(*, session: AsyncSession, email: str) -> int:
    """End every session of the user; returns how many there were."""
    result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        delete(LoginSession).where(col(LoginSession.email) == email)
    )
    await session.commit()
    return result.rowcount


async def purge_expired_sessions(*, session: AsyncSession, now: datetime) -> int:
    """Delete the rows of sessions past their absolute cap; returns how many."""
    result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        delete(LoginSession).where(col(LoginSession.expires_at) <= now)
    )
    await session.commit()
    return result.rowcount
