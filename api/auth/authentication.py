"""Who is asking: a session token from the cookie or the Authorization header, checked.

This is the request every page of every SPA makes, so it is built to cost next to nothing: a
token seen within the cache TTL costs one SHA-256 and a dictionary lookup; anything else costs
one HMAC and one primary-key query.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth.session_cache import CheckedSession, SessionCache, token_digest
from api.auth.tokens import (
    SessionClaims,
    TokenKind,
    check_times,
    issue_token,
    read_token,
    token_lifetime,
)
from api.config import Settings
from api.store.sessions import get_session_user
from api.store.tables import User, UserPublic


@dataclass(frozen=True, slots=True)
class Reissued:
    """A fresh cookie for a session past its refresh point or signed with an old key."""

    token: str
    max_age: int


@dataclass(frozen=True, slots=True)
class Authentication:
    """Who is signed in, with which session, and how the request proved it."""

    user: User
    user_json: bytes
    kind: TokenKind
    claims: SessionClaims
    reissued: Reissued | None


def presented_token(
    *, cookie: str | None, authorization: str | None
) -> tuple[TokenKind, str | None]:
    """The token a request presents. An Authorization header, even a bad one, wins."""
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        return TokenKind.BEARER, token.strip() if scheme.lower() == "bearer" else None
    return TokenKind.COOKIE, cookie


async def authenticate(
    *,
    settings: Settings,
    now: datetime,
    cache: SessionCache,
    sessionmaker: async_sessionmaker[AsyncSession],
    kind: TokenKind,
    token: str | None,
) -> Authentication | None:
    """The session `token` proves at `now`, or None."""
    if not token:
        return None
    checked = await cache.get_or_check(
        token_digest(kind, token), lambda: _check(settings, now, sessionmaker, kind, token)
    )
    if checked is None:
        return None
    # The timeouts are checked on every request, cached or not.
    claims = check_times(
        settings,
        session_id=checked.session_id,
        started_at=checked.started_at,
        issued_at=checked.issued_at,
        now=now,
        signed_with_fallback=checked.signed_with_fallback,
    )
    if claims is None:
        return None
    reissued = None
    if kind is TokenKind.COOKIE and claims.needs_refresh:
        reissued = Reissued(
            token=issue_token(
                settings=settings,
                kind=kind,
                session_id=claims.session_id,
                started_at=claims.started_at,
                now=now,
            ),
            max_age=token_lifetime(settings=settings, started_at=claims.started_at, now=now),
        )
    return Authentication(
        user=checked.user, user_json=checked.user_json, kind=kind, claims=claims, reissued=reissued
    )


async def _check(
    settings: Settings,
    now: datetime,
    sessionmaker: async_sessionmaker[AsyncSession],
    kind: TokenKind,
    token: str,
) -> CheckedSession | None:
    claims = read_token(settings=settings, kind=kind, token=token, now=now)
    if claims is None:
        return None
    async with sessionmaker() as session:
        user = await get_session_user(session=session, session_id=claims.session_id, now=now)
    if user is None:
        return None
    return CheckedSession(
        session_id=claims.session_id,
        started_at=claims.started_at,
        issued_at=claims.issued_at,
        signed_with_fallback=claims.signed_with_fallback,
        user=user,
        user_json=UserPublic.model_validate(user, from_attributes=True).model_dump_json().encode(),
    )
