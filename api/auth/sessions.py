"""Sessions: started by the sign-in writer, checked through the session cache, and ended or
changed (a user's groups) before their time only through `_announced()`, which tells every
process's session cache to drop them."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth.revocations import Revocations
from api.auth.session_cache import CheckedSession, SessionCache
from api.auth.tokens import SessionClaims
from api.store.sessions import (
    delete_expired_sessions,
    delete_own_session,
    delete_session,
    delete_user_sessions,
    find_live_session,
    session_ids_of,
    sessions_of,
    stamp_last_seen,
)
from api.store.sign_in_writer import Login, SignInWriter, WrittenSignIn
from api.store.tables import SessionRow, UserPublic
from api.store.users import delete_user

logger = logging.getLogger("signet")
# Sightings kept before they are written whatever the interval: about 2 MB.
MAX_SIGHTINGS = 10_000
SIGHTINGS_TASK = "signet sightings"
T = TypeVar("T")


class NoSuchSession(Exception):
    """No live session of that id belongs to the user."""


class Sessions:
    """Session rows in the database, the process's cache of checked ones, and the sightings
    (when each was last checked) not yet written."""

    def __init__(
        self,
        *,
        db_sessions: async_sessionmaker[AsyncSession],
        cache: SessionCache,
        writer: SignInWriter,
        revocations: Revocations,
    ) -> None:
        self._db_sessions = db_sessions
        self._cache = cache
        self._writer = writer
        self._revocations = revocations
        self._sightings: dict[str, datetime] = {}
        self._early_write: asyncio.Task[None] | None = None

    async def start(self, login: Login) -> WrittenSignIn:
        """Create or stamp the user and start a session, durably, before any token is sent; a
        takeover's ended sessions leave this process's cache at once."""
        user, started, account = await self._writer.sign_in(login)
        if account.taken_over or account.groups_changed:
            self._cache.forget_user(account.email)
        return user, started, account

    def cached(self, digest: bytes) -> CheckedSession | None:
        """The session a token (by its digest) names, if this process checked it lately and
        has heard of every revocation since."""
        if not self._revocations.cache_trusted():
            return None
        return self._cache.get(digest)

    async def find(
        self, digest: bytes, *, read: Callable[[], SessionClaims | None], now: datetime
    ) -> CheckedSession | None:
        """The live session a token names: cached, or `read` and one SELECT."""
        if not self._revocations.cache_trusted():
            return await self._load(read, now)
        return await self._cache.get_or_check(digest, lambda: self._load(read, now))

    async def _load(
        self, read: Callable[[], SessionClaims | None], now: datetime
    ) -> CheckedSession | None:
        claims = read()
        if claims is None:
            return None
        async with self._db_sessions() as db:
            live = await find_live_session(db=db, session_id=claims.session_id, now=now)
        if live is None:
            return None
        user = live.user
        public = UserPublic.model_validate(user, from_attributes=True)
        public.groups = list(live.groups)
        return CheckedSession(
            session_id=claims.session_id,
            started_at=claims.started_at,
            issued_at=claims.issued_at,
            signed_with_fallback=claims.signed_with_fallback,
            user=user,
            user_json=public.model_dump_json().encode(),
            provider=live.provider,
            groups=live.groups,
        )

    def seen(self, session_id: str, now: datetime) -> None:
        """Note that the session was checked at `now`; written with the next batch of sightings,
        or at once when a batch is full (memory stays bounded however many sessions are seen)."""
        self._sightings[session_id] = now
        if len(self._sightings) >= MAX_SIGHTINGS and self._early_write is None:
            self._early_write = asyncio.create_task(self._write_full_batch(), name=SIGHTINGS_TASK)

    async def _write_full_batch(self) -> None:
        try:
            await self.write_sightings()
        except Exception:
            logger.exception("writing a full batch of session sightings failed")
        finally:
            self._early_write = None

    async def write_sightings(self) -> int:
        """Write the sightings noted since the last call, in one statement; returns how many."""
        sightings, self._sightings = self._sightings, {}
        if sightings:
            async with self._db_sessions() as db:
                await stamp_last_seen(db=db, seen=sightings)
                await db.commit()
        return len(sightings)

    async def of_user(self, email: str, *, now: datetime) -> list[SessionRow]:
        """The user's live sessions, newest first, last_seen as of the latest sighting."""
        async with self._db_sessions() as db:
            rows = await sessions_of(db=db, email=email, now=now)
        for row in rows:
            row.last_seen = self._sightings.get(row.id, row.last_seen or row.created_at)
        return rows

    async def revoke_own(self, email: str, session_id: str) -> None:
        """End one of the user's sessions; `NoSuchSession` for any other id."""

        async def delete(db: AsyncSession) -> list[str]:
            return await delete_own_session(db=db, email=email, session_id=session_id)

        if not await self._revoke(delete, lambda: self._cache.forget_session(session_id)):
            raise NoSuchSession(session_id)

    async def revoke_session(self, session_id: str) -> int:
        """End one session, wherever its tokens are; returns 1, or 0 if it had ended."""

        async def delete(db: AsyncSession) -> list[str]:
            return await delete_session(db=db, session_id=session_id)

        return await self._revoke(delete, lambda: self._cache.forget_session(session_id))

    async def revoke_user(self, email: str, *, delete_too: bool = False) -> int:
        """End every session of `email` (and delete the user too, with `delete_too`)."""

        async def delete(db: AsyncSession) -> list[str]:
            ended = await delete_user_sessions(db=db, email=email)
            if delete_too:
                await delete_user(db=db, email=email)
            return ended

        return await self._revoke(delete, lambda: self._cache.forget_user(email))

    async def change_user(self, email: str, change: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Change what the user's sessions answer (their groups) with `change`, in a transaction
        that announces every session of theirs as changed: each process's session cache drops
        them (as for a revocation) and reads them afresh at their next check. The sessions go
        on. Returns what `change` returned."""
        changed: list[T] = []

        async def change_and_list(db: AsyncSession) -> list[str]:
            changed.append(await change(db))
            return await session_ids_of(db=db, email=email)

        await self._announced(change_and_list, lambda: self._cache.forget_user(email))
        return changed[0]

    async def refresh_user(self, email: str) -> int:
        """Have every process read the user's sessions afresh (something they answer changed
        outside `change_user`); returns how many sessions were announced."""

        async def listed(db: AsyncSession) -> list[str]:
            return await session_ids_of(db=db, email=email)

        return len(await self._announced(listed, lambda: self._cache.forget_user(email)))

    async def _revoke(
        self, delete: Callable[[AsyncSession], Awaitable[list[str]]], forget: Callable[[], None]
    ) -> int:
        """The one revocation point: the rows go in one transaction, which also announces their
        end to every other process. Returns how many sessions ended."""
        return len(await self._announced(delete, forget))

    async def _announced(
        self, change: Callable[[AsyncSession], Awaitable[list[str]]], forget: Callable[[], None]
    ) -> list[str]:
        """Run `change`, which ends or changes sessions and returns their ids, in one
        transaction that announces those ids to every other process (their caches drop them);
        this process's cache forgets them however the transaction ends."""
        try:
            async with self._db_sessions() as db:
                ids = await change(db)
                await self._revocations.announce(db, ids)
                await db.commit()
        finally:
            forget()
        return ids

    async def purge_expired(self, *, now: datetime) -> int:
        """Delete the rows of sessions past their absolute end; returns how many."""
        async with self._db_sessions() as db:
            purged = await delete_expired_sessions(db=db, now=now)
            await db.commit()
        return purged
