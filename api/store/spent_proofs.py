"""Spent proofs: each one-time proof is accepted once, across workers and hosts. The caller
commits."""

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from api.store.tables import SpentProof
from api.store.users import dialect_insert

SPENT = SQLModel.metadata.tables[SpentProof.__tablename__]


async def spend(*, db: AsyncSession, digest: str, expires_at: datetime) -> bool:
    """Record the proof as spent; False if it already was (a replay)."""
    insert = dialect_insert(db.get_bind().dialect.name, SPENT)
    statement = insert.values(digest=digest, expires_at=expires_at).on_conflict_do_nothing()
    result: CursorResult[Any] = await db.execute(statement)  # type: ignore[assignment]
    return result.rowcount == 1


async def delete_expired_proofs(*, db: AsyncSession, now: datetime) -> int:
    """Forget proofs that could no longer be used; returns how many."""
    statement = delete(SpentProof).where(col(SpentProof.expires_at) <= now)
    result: CursorResult[Any] = await db.execute(statement)  # type: ignore[assignment]
    return result.rowcount
