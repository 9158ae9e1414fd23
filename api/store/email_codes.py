"""Email sign-in codes: kept, found, taken once, burned and purged. The caller commits."""

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.store.tables import EmailCode


async def insert_code(*, db: AsyncSession, code: EmailCode, keep: int, attempts: int) -> None:
    """Keep `code`, which inherits the attempts its email's usable codes have had (fewer than
    `attempts`), and forget all but the `keep` newest codes of its email."""
    if db.get_bind().dialect.name == "postgresql":
        # One start per email at a time, so that concurrent ones trim to `keep`, not more.
        await db.execute(select(func.pg_advisory_xact_lock(func.hashtext(code.email))))
    inherited = await db.scalar(
        select(func.max(EmailCode.attempts)).where(
            *_usable(code.email, now=code.created_at, attempts=attempts)
        )
    )
    code.attempts = inherited or 0
    db.add(code)
    await db.flush()
    newest = (
        select(col(EmailCode.id))
        .where(col(EmailCode.email) == code.email)
        .order_by(col(EmailCode.created_at).desc(), col(EmailCode.id).desc())
        .limit(keep)
    )
    await db.execute(
        delete(EmailCode).where(
            col(EmailCode.email) == code.email, col(EmailCode.id).not_in(newest.scalar_subquery())
        )
    )


async def claim_attempt(
    *, db: AsyncSession, email: str, now: datetime, attempts: int
) -> list[EmailCode]:
    """Count an attempt against every code of `email` that may still be tried (unexpired, fewer
    than `attempts` tried), and return those: the only ones this attempt may be compared with.
    One statement, so that concurrent attempts cannot all slip under the count."""
    statement = (
        update(EmailCode)
        .where(*_usable(email, now=now, attempts=attempts))
        .values(attempts=col(EmailCode.attempts) + 1)
        .returning(EmailCode)
    )
    return list((await db.execute(statement)).scalars())


async def find_code(*, db: AsyncSession, code_id: str, now: datetime) -> EmailCode | None:
    """The unexpired code of this id, its code burned or not (its link still works)."""
    found = await db.get(EmailCode, code_id)
    return found if found is not None and found.expires_at > now else None


async def take_code(*, db: AsyncSession, code_id: str, now: datetime) -> EmailCode | None:
    """Delete the unexpired code of this id and return it; None if another request took it
    first."""
    conditions = (col(EmailCode.id) == code_id, col(EmailCode.expires_at) > now)
    statement = delete(EmailCode).where(*conditions).returning(EmailCode)
    taken: EmailCode | None = (await db.execute(statement)).scalars().one_or_none()
    return taken


async def delete_expired_codes(*, db: AsyncSession, now: datetime) -> int:
    """Forget codes that could no longer be used; returns how many."""
    statement = delete(EmailCode).where(col(EmailCode.expires_at) <= now)
    result: CursorResult[Any] = await db.execute(statement)  # type: ignore[assignment]
    return result.rowcount


def _usable(email: str, *, now: datetime, attempts: int) -> tuple[ColumnElement[bool], ...]:
    return (
        col(EmailCode.email) == email,
        col(EmailCode.expires_at) > now,
        col(EmailCode.attempts) < attempts,
    )
