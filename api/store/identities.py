"""Identities: which provider accounts (provider, subject) sign in as which user. The caller
commits."""

import secrets
from datetime import datetime

from sqlalchemy import bindparam, delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from api.store.tables import IdentityRow, User

IDENTITIES = SQLModel.metadata.tables[IdentityRow.__tablename__]


async def find_identity(*, db: AsyncSession, provider: str, subject: str) -> IdentityRow | None:
    statement = select(IdentityRow).where(
        col(IdentityRow.provider) == provider, col(IdentityRow.subject) == subject
    )
    found: IdentityRow | None = (await db.scalars(statement)).one_or_none()
    return found


async def find_identities(
    *, db: AsyncSession, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], IdentityRow]:
    """The identities with these (provider, subject) keys, in one SELECT."""
    if not keys:
        return {}
    statement = select(IdentityRow).where(
        tuple_(col(IdentityRow.provider), col(IdentityRow.subject)).in_(keys)
    )
    return {(row.provider, row.subject): row for row in await db.scalars(statement)}


async def identities_of(*, db: AsyncSession, email: str) -> list[IdentityRow]:
    """The user's identities, oldest first."""
    statement = (
        select(IdentityRow)
        .where(col(IdentityRow.email) == email)
        .order_by(col(IdentityRow.created_at), col(IdentityRow.id))
    )
    return list((await db.scalars(statement)).all())


async def add_identity(
    *, db: AsyncSession, provider: str, subject: str, email: str, now: datetime
) -> IdentityRow:
    row = IdentityRow(
        id=secrets.token_urlsafe(16),
        provider=provider,
        subject=subject,
        email=email,
        created_at=now,
        last_used=now,
    )
    db.add(row)
    await db.flush()
    return row


async def stamp_identities(*, db: AsyncSession, used: list[dict[str, object]]) -> None:
    """Set last_used of each {"identity": id, "now": time}, in one executemany."""
    if used:
        statement = (
            update(IDENTITIES)
            .where(IDENTITIES.c.id == bindparam("identity"))
            .values(last_used=bindparam("now"))
        )
        await db.execute(statement, used)


async def delete_identities(*, db: AsyncSession, ids: list[str]) -> None:
    await db.execute(delete(IdentityRow).where(col(IdentityRow.id).in_(ids)))


async def add_user(*, db: AsyncSession, email: str, verified: bool, now: datetime) -> None:
    db.add(User(email=email, created_at=now, last_login=now, email_verified=verified))
    await db.flush()


async def mark_verified(*, db: AsyncSession, email: str) -> None:
    await db.execute(update(User).where(col(User.email) == email).values(email_verified=True))


async def verified_users_joined_through(
    *, db: AsyncSession, providers: list[str]
) -> list[IdentityRow]:
    """The identities of these providers that belong to verified users, by email."""
    if not providers:
        return []
    statement = (
        select(IdentityRow)
        .join(User, col(User.email) == col(IdentityRow.email))
        .where(col(IdentityRow.provider).in_(providers), col(User.email_verified))
        .order_by(col(IdentityRow.email), col(IdentityRow.created_at))
    )
    return list((await db.scalars(statement)).all())
