"""Admin keys: created, listed, revoked; found by the SHA-256 of the key. The caller commits."""

import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.store.operator_tables import AdminKey


async def add_admin_key(*, db: AsyncSession, name: str, digest: str, now: datetime) -> AdminKey:
    # Hex: an id that began with "-" (as url-safe ones may) would read as an option.
    row = AdminKey(id=secrets.token_hex(8), name=name, digest=digest, created_at=now)
    db.add(row)
    await db.flush()
    return row


async def list_admin_keys(*, db: AsyncSession) -> list[AdminKey]:
    """Every key, revoked ones too, oldest first."""
    statement = select(AdminKey).order_by(col(AdminKey.created_at), col(AdminKey.id))
    return list((await db.scalars(statement)).all())


async def find_admin_key(*, db: AsyncSession, digest: str) -> AdminKey | None:
    """The key (live or revoked) whose SHA-256 is `digest`."""
    found: AdminKey | None = (
        await db.scalars(select(AdminKey).where(col(AdminKey.digest) == digest))
    ).one_or_none()
    return found


async def revoke_admin_key(*, db: AsyncSession, key_id: str, now: datetime) -> AdminKey | None:
    """Revoke a live key; None if there is no live key of that id."""
    statement = (
        update(AdminKey)
        .where(col(AdminKey.id) == key_id, col(AdminKey.revoked_at).is_(None))
        .values(revoked_at=now)
        .returning(AdminKey)
        .execution_options(synchronize_session=False)
    )
    return (await db.execute(statement)).scalars().first()


async def stamp_admin_key(*, db: AsyncSession, key_id: str, now: datetime) -> None:
    await db.execute(update(AdminKey).where(col(AdminKey.id) == key_id).values(last_used=now))
