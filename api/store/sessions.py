"""Session rows: a row per live session; no row, no session. The caller commits."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from api.store.tables import SessionRow, User, UserGroup

SESSIONS = SQLModel.metadata.tables[SessionRow.__tablename__]


def new_session_id() -> str:
    return secrets.token_urlsafe(24)


MAX_USER_AGENT = 256
MAX_ADDRESS = 64


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session to start: whose, when, for how long, and how it was started."""

    email: str
    now: datetime
    lifetime: int
    provider: str | None = None
    kind: str = "cookie"
    user_agent: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class StartedSession:
    """A session row just written."""

    id: str
    email: str
    created_at: datetime
    expires_at: datetime
    provider: str | None
    kind: str
    user_agent: str | None
    address: str | None
    last_seen: datetime


async def insert_sessions(
    *, db: AsyncSession, starts: Sequence[NewSession]
) -> list[StartedSession]:
    """A new session row per start, in one INSERT."""
    started = [
        StartedSession(
            id=new_session_id(),
            email=start.email,
            created_at=start.now,
            expires_at=start.now + timedelta(seconds=start.lifetime),
            provider=start.provider,
            kind=start.kind,
            user_agent=start.user_agent[:MAX_USER_AGENT] if start.user_agent else None,
            address=start.address[:MAX_ADDRESS] if start.address else None,
            last_seen=start.now,
        )
        for start in starts
    ]
    # A Core INSERT of plain rows: the ORM's per-object bookkeeping is most of the cost otherwise.
    # (Not dataclasses.asdict, which deep-copies every value: a fifth of this function's cost.)
    rows = [{name: getattr(row, name) for name in _STARTED_FIELDS} for row in started]
    await db.execute(insert(SESSIONS), rows)
    return started


_STARTED_FIELDS = tuple(field.name for field in fields(StartedSession))


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A session that has not ended: its user, the provider it was started with, and the user's
    groups (whatever their source, each once, sorted)."""

    user: User
    provider: str | None
    groups: tuple[str, ...] = ()


async def find_live_session(
    *, db: AsyncSession, session_id: str, now: datetime
) -> LiveSession | None:
    """The user of a live session and their groups, in one query; None once it ended or
    expired."""
    # One row per group row of the user (and one with no group for a user with none): a round
    # trip fewer than asking for the groups apart, on the session cache's miss path.
    statement = (
        select(User, col(SessionRow.provider), col(UserGroup.name))
        .join(SessionRow, col(SessionRow.email) == User.email)
        .outerjoin(UserGroup, col(UserGroup.email) == User.email)
        .where(
            col(SessionRow.id) == session_id,
            col(SessionRow.expires_at) > now,
            # A session started while its user was being disabled is gone all the same.
            col(User.disabled).is_(False),
        )
    )
    rows = (await db.execute(statement)).all()
    if not rows:
        return None
    groups = tuple(sorted({row[2] for row in rows if row[2] is not None}))
    return LiveSession(user=rows[0][0], provider=rows[0][1], groups=groups)


# A session ended: (its id, its user's email).
Ended = tuple[str, str]


async def delete_session(*, db: AsyncSession, session_id: str) -> list[Ended]:
    """Delete one session's row; returns it, or nothing if there was none."""
    return await _deleted_ids(db, delete(SessionRow).where(col(SessionRow.id) == session_id))


async def delete_user_sessions(*, db: AsyncSession, email: str) -> list[Ended]:
    """Delete every session row of the user; returns them."""
    return await _deleted_ids(db, delete(SessionRow).where(col(SessionRow.email) == email))


async def delete_expired_sessions(*, db: AsyncSession, now: datetime) -> int:
    """Delete the rows of sessions past their absolute cap; returns how many."""
    return await _deleted(db, delete(SessionRow).where(col(SessionRow.expires_at) <= now))


async def _deleted(db: AsyncSession, statement: Any) -> int:
    result: CursorResult[Any] = await db.execute(statement)  # type: ignore[assignment]
    return result.rowcount


async def _deleted_ids(db: AsyncSession, statement: Any) -> list[Ended]:
    returning = statement.returning(col(SessionRow.id), col(SessionRow.email))
    return [(row[0], row[1]) for row in await db.execute(returning)]


async def sessions_of(*, db: AsyncSession, email: str, now: datetime) -> list[SessionRow]:
    """The user's live sessions, newest first."""
    statement = (
        select(SessionRow)
        .where(col(SessionRow.email) == email, col(SessionRow.expires_at) > now)
        .order_by(col(SessionRow.created_at).desc(), col(SessionRow.id))
    )
    return list((await db.scalars(statement)).all())


async def sessions_page(
    *,
    db: AsyncSession,
    email: str,
    now: datetime,
    before: tuple[datetime, str] | None,
    limit: int,
) -> list[SessionRow]:
    """Up to `limit` of the user's live sessions, newest first (by start, then id), those
    after `before` (the (created_at, id) of the last one of the page before) in that order."""
    statement = (
        select(SessionRow)
        .where(col(SessionRow.email) == email, col(SessionRow.expires_at) > now)
        .order_by(col(SessionRow.created_at).desc(), col(SessionRow.id).desc())
        .limit(limit)
    )
    if before is not None:
        started, session_id = before
        statement = statement.where(
            or_(
                col(SessionRow.created_at) < started,
                and_(col(SessionRow.created_at) == started, col(SessionRow.id) < session_id),
            )
        )
    return list((await db.scalars(statement)).all())


async def session_ids_of(*, db: AsyncSession, email: str) -> list[str]:
    """The ids of every session row of the user (live or not yet purged)."""
    statement = select(col(SessionRow.id)).where(col(SessionRow.email) == email)
    return list((await db.scalars(statement)).all())


async def delete_own_session(*, db: AsyncSession, email: str, session_id: str) -> list[Ended]:
    """Delete the session if it is the user's; returns it, or nothing if it was not."""
    return await _deleted_ids(
        db,
        delete(SessionRow).where(col(SessionRow.id) == session_id, col(SessionRow.email) == email),
    )


async def stamp_last_seen(*, db: AsyncSession, seen: dict[str, datetime]) -> None:
    """Set last_seen of each session id to its time, in one executemany."""
    if seen:
        statement = (
            update(SESSIONS)
            .where(SESSIONS.c.id == bindparam("session"))
            .values(last_seen=bindparam("seen"))
        )
        await db.execute(statement, [{"session": sid, "seen": at} for sid, at in seen.items()])
