"""Sessions: started by the sign-in writer, checked through the session cache, ended by
`revoke()`, the one place a session ends before its time."""

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth.session_cache import CheckedSession, SessionCache
from api.auth.tokens import SessionClaims
from api.store.sessions import (
    StartedSession,
    delete_expired_sessions,
    delete_session,
    delete_user_sessions,
    find_session_user,
)
from api.store.sign_in_writer import SignInWriter
from api.store.tables import UserPublic
from api.store.users import delete_user


class Sessions:
    """Session rows in the database and the process's cache of checked ones."""

    def __init__(
        self,
        *,
        db_sessions: async_sessionmaker[AsyncSession],
        cache: SessionCache,
        writer: SignInWriter,
    ) -> None:
        self._db_sessions = db_sessions
        self._cache = cache
        self._writer = writer

    async def start(
        self, *, email: str, now: datetime, lifetime: int
    ) -> tuple[UserPublic, StartedSession]:
        """Create or stamp the user and start a session, durably, before any token is sent."""
        return await self._writer.sign_in(email=email, now=now, lifetime=lifetime)

    async def find(
        self, digest: bytes, *, read: Callable[[], SessionClaims | None], now: datetime
    ) -> CheckedSession | None:
        """The live session a token (by its digest) names: cached, or `read` and one SELECT."""
        return await self._cache.get_or_check(digest, lambda: self._load(read, now))

    async def _load(
        self, read: Callable[[], SessionClaims | None], now: datetime
    ) -> CheckedSession | None:
        claims = read()
        if claims is None:
            return None
        async with self._db_sessions() as db:
            user = await find_session_user(db=db, session_id=claims.session_id, now=now)
        if user is None:
            return None
        return CheckedSession(
            session_id=claims.session_id,
            started_at=claims.started_at,
            issued_at=claims.issued_at,
            signed_with_fallback=claims.signed_with_fallback,
            user=user,
            user_json=UserPublic.model_validate(user, from_attributes=True)
            .model_dump_json()
            .encode(),
        )

    async def revoke(
        self, *, session_id: str | None = None, email: str | None = None, delete: bool = False
    ) -> int:
        """End one session, or every session of `email` (and the user too, with `delete`).

        The rows go in one transaction, and this process's cache forgets them at once; other
        processes stop trusting their cached copies within the cache TTL. Returns how many
        sessions ended.
        """
        if (session_id is None) == (email is None):
            raise TypeError("revoke one session or one user's sessions")
        async with self._db_sessions() as db:
            if session_id is not None:
                ended = await delete_session(db=db, session_id=session_id)
            elif email is not None:
                ended = await delete_user_sessions(db=db, email=email)
                if delete:
                    await delete_user(db=db, email=email)
            await db.commit()
        if session_id is not None:
            self._cache.forget_session(session_id)
        elif email is not None:
            self._cache.forget_user(email)
        return ended

    async def purge_expired(self, *, now: datetime) -> int:
        """Delete the rows of sessions past their absolute end; returns how many."""
        async with self._db_sessions() as db:
            purged = await delete_expired_sessions(db=db, now=now)
            await db.commit()
        return purged
