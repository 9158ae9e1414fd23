"""Passkeys: each user's WebAuthn credentials. The caller commits."""

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.store.passkey_tables import PasskeyRow


async def passkeys_of(*, db: AsyncSession, email: str) -> list[PasskeyRow]:
    """The user's passkeys, oldest first."""
    statement = (
        select(PasskeyRow)
        .where(col(PasskeyRow.email) == email)
        .order_by(col(PasskeyRow.created_at), col(PasskeyRow.id))
    )
    return list((await db.scalars(statement)).all())


async def find_passkey(*, db: AsyncSession, credential_id: str) -> PasskeyRow | None:
    statement = select(PasskeyRow).where(col(PasskeyRow.credential_id) == credential_id)
    found: PasskeyRow | None = (await db.scalars(statement)).one_or_none()
    return found


async def user_handle_of(*, db: AsyncSession, email: str) -> str | None:
    """The user handle the user's passkeys carry, if they have any."""
    statement = (
        select(col(PasskeyRow.user_handle))
        .where(col(PasskeyRow.email) == email)
        .order_by(col(PasskeyRow.created_at), col(PasskeyRow.id))
        .limit(1)
    )
    handle: str | None = (await db.scalars(statement)).first()
    return handle


async def add_passkey(*, db: AsyncSession, row: PasskeyRow) -> None:
    """Add `row`; IntegrityError if its credential is registered already."""
    db.add(row)
    await db.flush()


async def rename_passkey(
    *, db: AsyncSession, email: str, passkey_id: str, name: str
) -> PasskeyRow | None:
    """The user's passkey renamed; None if they have none of that id."""
    row = await _own(db, email=email, passkey_id=passkey_id)
    if row is not None:
        row.name = name
        await db.flush()
    return row


async def delete_passkey(*, db: AsyncSession, email: str, passkey_id: str) -> PasskeyRow | None:
    """Delete the user's passkey; None if they have none of that id."""
    row = await _own(db, email=email, passkey_id=passkey_id)
    if row is not None:
        await db.delete(row)
        await db.flush()
    return row


async def delete_passkeys_of(*, db: AsyncSession, email: str) -> list[PasskeyRow]:
    """Delete every passkey of the user; returns them."""
    rows = await passkeys_of(db=db, email=email)
    if rows:
        await db.execute(delete(PasskeyRow).where(col(PasskeyRow.email) == email))
    return rows


async def use_passkey(
    *, db: AsyncSession, credential_id: str, email: str, sign_count: int, now: datetime
) -> bool:
    """Record a sign-in with the passkey: its new counter and `last_used`. False if it is gone,
    is no longer the user's, or a concurrent sign-in moved its counter to `sign_count` or past
    it (the same signature used twice, or a cloned authenticator). A counter of 0 is an
    authenticator that counts nothing (any more): the one kept stays, to judge later counts."""
    counter = col(PasskeyRow.sign_count)
    owned = (col(PasskeyRow.credential_id) == credential_id, col(PasskeyRow.email) == email)
    if sign_count == 0:
        statement = update(PasskeyRow).where(*owned).values(last_used=now)
    else:
        statement = (
            update(PasskeyRow)
            .where(*owned, counter < sign_count)
            .values(sign_count=sign_count, last_used=now)
        )
    result: CursorResult[tuple[()]] = await db.execute(statement)  # type: ignore[assignment]
    return result.rowcount == 1


async def _own(db: AsyncSession, *, email: str, passkey_id: str) -> PasskeyRow | None:
    statement = select(PasskeyRow).where(
        col(PasskeyRow.id) == passkey_id, col(PasskeyRow.email) == email
    )
    found: PasskeyRow | None = (await db.scalars(statement)).one_or_none()
    return found
