"""Sessions: started by the sign-in writer, checked through the session cache, and ended or
changed (a user's groups) before their time only through `_announced()`, which tells every
process's session cache to drop them."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth.events import (
    BY_USER_DELETED,
    BY_USER_DISABLED,
    ENDED,
    USER_DELETED,
    USER_DISABLED,
    USER_ENABLED,
    Actor,
    NewEvent,
    ended_sessions,
)
from api.auth.revocations import Revocations
from api.auth.session_cache import CheckedSession, SessionCache
from api.auth.tokens import SessionClaims
from api.store.events import append_events
from api.store.sessions import (
    Ended,
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
from api.store.users import delete_user, mark_disabled

logger = logging.getLogger("signet")
# Sightings kept before they are written whatever the interval: about 2 MB.
MAX_SIGHTINGS = 10_000
SIGHTINGS_TASK = "signet sightings"
T = TypeVar("T")
# What a change to sessions did: the sessions it ended or changed, and its events.
Change = tuple[list[Ended], list[NewEvent]]


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

    async def revoke_own(self, email: str, session_id: str, *, at: datetime) -> None:
        """End one of the user's sessions (from their list); `NoSuchSession` for any other id."""

        async def delete(db: AsyncSession) -> Change:
            ended = await delete_own_session(db=db, email=email, session_id=session_id)
            return ended, ended_sessions(ended, at=at, actor=Actor.user(email), reason=ENDED)

        ended, _ = await self._announced(delete, lambda: self._cache.forget_session(session_id))
        if not ended:
            raise NoSuchSession(session_id)

    async def revoke_session(
        self, session_id: str, *, at: datetime, actor: Actor, reason: str
    ) -> int:
        """End one session, wherever its tokens are; returns 1, or 0 if it had ended."""

        async def delete(db: AsyncSession) -> Change:
            ended = await delete_session(db=db, session_id=session_id)
            return ended, ended_sessions(ended, at=at, actor=actor, reason=reason)

        ended, _ = await self._announced(delete, lambda: self._cache.forget_session(session_id))
        return len(ended)

    async def revoke_user(self, email: str, *, at: datetime, actor: Actor, reason: str) -> int:
        """End every session of `email`; returns how many there were."""

        async def delete(db: AsyncSession) -> Change:
            ended = await delete_user_sessions(db=db, email=email)
            return ended, ended_sessions(ended, at=at, actor=actor, reason=reason)

        ended, _ = await self._announced(delete, lambda: self._cache.forget_user(email))
        return len(ended)

    async def delete_user(self, email: str, *, at: datetime, actor: Actor) -> bool:
        """Delete the user, their identities, groups and sessions (refused everywhere at once);
        False if there was no such user."""

        async def delete(db: AsyncSession) -> Change:
            ended = await delete_user_sessions(db=db, email=email)
            if not await delete_user(db=db, email=email):
                return [], []
            events = ended_sessions(ended, at=at, actor=actor, reason=BY_USER_DELETED)
            return ended, [*events, NewEvent(USER_DELETED, at=at, actor=actor, email=email)]

        _, events = await self._announced(delete, lambda: self._cache.forget_user(email))
        return bool(events)

    async def set_disabled(self, email: str, *, disabled: bool, at: datetime, actor: Actor) -> bool:
        """Disable the user (their sessions end everywhere at once) or enable them again (old
        sessions stay ended); False if it was so already."""

        async def change(db: AsyncSession) -> Change:
            if not await mark_disabled(db=db, email=email, disabled=disabled):
                return [], []
            # Enabling ends sessions too: a sign-in that read the user before the disable
            # committed may have written one after it, which the disabled flag only hid.
            ended = await delete_user_sessions(db=db, email=email)
            events = ended_sessions(ended, at=at, actor=actor, reason=BY_USER_DISABLED)
            kind = USER_DISABLED if disabled else USER_ENABLED
            return ended, [*events, NewEvent(kind, at=at, actor=actor, email=email)]

        _, events = await self._announced(change, lambda: self._cache.forget_user(email))
        return bool(events)

    async def change_user(
        self, email: str, change: Callable[[AsyncSession], Awaitable[tuple[T, list[NewEvent]]]]
    ) -> T:
        """Change what the user's sessions answer (their groups) with `change`, which returns
        its result and the events recording it, in a transaction that announces every session
        of theirs as changed: each process's session cache drops them (as for a revocation)
        and reads them afresh at their next check. The sessions go on."""
        changed: list[T] = []

        async def change_and_list(db: AsyncSession) -> Change:
            result, events = await change(db)
            changed.append(result)
            return [(sid, email) for sid in await session_ids_of(db=db, email=email)], events

        await self._announced(change_and_list, lambda: self._cache.forget_user(email))
        return changed[0]

    async def _announced(
        self, change: Callable[[AsyncSession], Awaitable[Change]], forget: Callable[[], None]
    ) -> Change:
        """The one revocation point. Run `change`, which ends or changes sessions and returns
        them with the events recording it, in one transaction that writes the events and
        announces the sessions to every other process (their caches drop them); this process's
        cache forgets them however the transaction ends."""
        try:
            async with self._db_sessions() as db:
                ended, events = await change(db)
                await self._revocations.announce(db, [session_id for session_id, _ in ended])
                await append_events(db=db, events=events)
                await db.commit()
        finally:
            forget()
        return ended, events

    async def purge_expired(self, *, now: datetime) -> int:
        """Delete the rows of sessions past their absolute end; returns how many."""
        async with self._db_sessions() as db:
            purged = await delete_expired_sessions(db=db, now=now)
            await db.commit()
        return purged
