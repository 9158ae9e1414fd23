"""Email sign-in codes: kept, found, taken once, burned and purged. The caller commits."""

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.store.tables import EmailCode


async def insert_code(*, db: AsyncSession, code: EmailCode, keep: int) -> None:
    """Keep `code`, which inherits the wrong codes its email has had, and forget all but the
    `keep` newest codes of its email."""
    inherited = await db.scalar(
        select(func.max(EmailCode.wrong_codes)).where(
            col(EmailCode.email) == code.email,
            col(EmailCode.code_digest).is_not(None),
            col(EmailCode.expires_at) > code.created_at,
        )
    )
    code.wrong_codes = inherited or 0
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


async def live_codes(*, db: AsyncSession, email: str, now: datetime) -> list[EmailCode]:
    """The codes of `email` that may still be used (not expired, not burned)."""
    rows = await db.scalars(
        select(EmailCode).where(
            col(EmailCode.email) == email,
            col(EmailCode.code_digest).is_not(None),
            col(EmailCode.expires_at) > now,
        )
    )
    return list(rows)


async def find_code(*, db: AsyncSession, code_id: str, now: datetime) -> EmailCode | None:
    """The unexpired code of this id, burned or not (its link still works)."""
    found = await db.get(EmailCode, code_id)
    return found if found is not None and found.expires_at > now else None


async def take_code(
    *, db: AsyncSession, code_id: str, now: datetime, by_code: bool
) -> EmailCode | None:
    """Delete the unexpired code of this id (by its code: only if not burned) and return it;
    None if another request took it first."""
    conditions = [col(EmailCode.id) == code_id, col(EmailCode.expires_at) > now]
    if by_code:
        conditions.append(col(EmailCode.code_digest).is_not(None))
    statement = delete(EmailCode).where(*conditions).returning(EmailCode)
    taken: EmailCode | None = (await db.execute(statement)).scalars().one_or_none()
    return taken


async def count_wrong_code(*, db: AsyncSession, email: str, now: datetime, burn_at: int) -> None:
    """Count a wrong code against every live code of `email`; burn them all at `burn_at`."""
    live = (
        col(EmailCode.email) == email,
        col(EmailCode.code_digest).is_not(None),
        col(EmailCode.expires_at) > now,
    )
    await db.execute(
        update(EmailCode).where(*live).values(wrong_codes=col(EmailCode.wrong_codes) + 1)
    )
    await db.execute(
        update(EmailCode)
        .where(*live, col(EmailCode.wrong_codes) >= burn_at)
        .values(code_digest=None)
    )


async def delete_expired_codes(*, db: AsyncSession, now: datetime) -> int:
    """Forget codes that could no longer be used; returns how many."""
    statement = delete(EmailCode).where(col(EmailCode.expires_at) <= now)
    result: CursorResult[Any] = await db.execute(statement)  # type: ignore[assignment]
    return result.rowcount
