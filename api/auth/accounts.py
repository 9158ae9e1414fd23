"""Accounts: which user an identity signs in as, and the trust rules that keep an unverified
email from ever joining someone else's account ("nOAuth")."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth.providers.base import Identity
from api.store.identities import (
    add_identity,
    add_user,
    delete_identities,
    find_identity,
    identities_of,
    mark_verified,
)
from api.store.tables import IdentityRow
from api.store.users import get_user


class AccountExists(Exception):
    """An unverified email names an existing user: it may not join them."""


class NoSuchIdentity(Exception):
    """No identity of that id belongs to the user."""


class LastIdentity(Exception):
    """Removing the identity would leave the user no way to sign in."""


@dataclass(frozen=True, slots=True)
class Account:
    """The user an identity signs in as, and whether a verified sign-in just took it over from
    unverified identities (whose sessions must then end)."""

    email: str
    identity_id: str
    taken_over: bool = False


class Accounts:
    def __init__(self, *, db_sessions: async_sessionmaker[AsyncSession]) -> None:
        self._db_sessions = db_sessions

    async def resolve(self, identity: Identity, *, provider: str, now: datetime) -> Account:
        """The user `identity` signs in as, linking it on first use; `AccountExists` when an
        unverified email names a user that exists already."""
        for attempt in (1, 2):
            try:
                async with self._db_sessions() as db:
                    account = await self._resolve(db, identity, provider=provider, now=now)
                    await db.commit()
                    return account
            except IntegrityError:
                if attempt == 2:  # a concurrent first sign-in linked it: read what it wrote
                    raise
        raise AssertionError("unreachable")

    async def _resolve(
        self, db: AsyncSession, identity: Identity, *, provider: str, now: datetime
    ) -> Account:
        subject = identity.subject or identity.email
        linked = await find_identity(db=db, provider=provider, subject=subject)
        if linked is not None:  # nothing to write: the sign-in writer stamps last_used
            return Account(email=linked.email, identity_id=linked.id)
        user = await get_user(db=db, email=identity.email)
        if user is None:
            await add_user(db=db, email=identity.email, verified=identity.email_verified, now=now)
        elif not identity.email_verified:
            raise AccountExists(identity.email)
        taken_over = user is not None and not user.email_verified
        if taken_over:
            # The verified owner wins: the identities that only claimed the address go.
            stale = await identities_of(db=db, email=identity.email)
            await delete_identities(db=db, ids=[row.id for row in stale])
            await mark_verified(db=db, email=identity.email)
        added = await add_identity(
            db=db, provider=provider, subject=subject, email=identity.email, now=now
        )
        return Account(email=identity.email, identity_id=added.id, taken_over=taken_over)

    async def identities(self, email: str) -> list[IdentityRow]:
        """The user's identities, oldest first."""
        async with self._db_sessions() as db:
            return await identities_of(db=db, email=email)

    async def unlink(self, email: str, identity_id: str) -> None:
        """Remove one of the user's identities, never the last."""
        async with self._db_sessions() as db:
            rows = await identities_of(db=db, email=email)
            if identity_id not in {row.id for row in rows}:
                raise NoSuchIdentity(identity_id)
            if len(rows) == 1:
                raise LastIdentity(identity_id)
            await delete_identities(db=db, ids=[identity_id])
            await db.commit()
