"""Tokens: signed strings that name a session (itsdangerous, timed, salted per transport).

A token names a session row and when the session started; its signature's timestamp says when
it was last issued. The idle timeout counts from the signature, the absolute one from the start,
so both are enforced from the token itself, whatever the cookie's Max-Age says.
"""

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from api.clock import Clock
from api.config import Settings


class TokenKind(StrEnum):
    """Where a token travels. Each kind has its own salt, so one cannot stand in for the other."""

    COOKIE = "cookie"
    BEARER = "bearer"


@dataclass(frozen=True, slots=True)
class SessionClaims:
    """What a genuine, unexpired token says."""

    session_id: str
    started_at: datetime
    issued_at: datetime
    signed_with_fallback: bool
    # Signed with a fallback key, or old enough that the cookie should be re-issued.
    needs_refresh: bool


class _ClockedSigner(TimestampSigner):
    """A timestamp signer that reads the time from the injected clock, not `time.time`."""

    def __init__(self, *args: Any, clock: Clock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock().timestamp())


def timed_serializer(key: str, *, salt: str, now: datetime) -> URLSafeTimedSerializer:
    """An itsdangerous serializer whose signatures say `now`, whatever the system clock says."""
    return URLSafeTimedSerializer(
        key, salt=salt, signer=_ClockedSigner, signer_kwargs={"clock": lambda: now}
    )


def _serializer(key: str, kind: TokenKind, now: datetime) -> URLSafeTimedSerializer:
    return timed_serializer(key, salt=f"signet.session.{kind}", now=now)


def issue_token(
    *, settings: Settings, kind: TokenKind, session_id: str, started_at: datetime, now: datetime
) -> str:
    """A token for the session, signed with the current key at `now`."""
    serializer = _serializer(settings.secret_key.get_secret_value(), kind, now)
    return serializer.dumps([session_id, int(started_at.timestamp())])


def read_token(
    *, settings: Settings, kind: TokenKind, token: str, now: datetime
) -> SessionClaims | None:
    """The claims of a genuine token within both timeouts; None for anything else."""
    keys = [settings.secret_key, *settings.secret_key_fallbacks]
    for position, key in enumerate(keys):
        try:
            payload, issued_at = _serializer(key.get_secret_value(), kind, now).loads(
                token, return_timestamp=True
            )
        except BadData:
            continue
        return _check(settings, payload, issued_at, now, signed_with_fallback=position > 0)
    return None


def _check(
    settings: Settings,
    payload: object,
    issued_at: datetime,
    now: datetime,
    *,
    signed_with_fallback: bool,
) -> SessionClaims | None:
    match payload:
        case [str() as session_id, int() as started] if not isinstance(started, bool):
            pass
        case _:
            return None
    try:
        started_at = datetime.fromtimestamp(started, issued_at.tzinfo)
    except (OverflowError, OSError, ValueError):
        return None
    return check_times(
        settings,
        session_id=session_id,
        started_at=started_at,
        issued_at=issued_at,
        now=now,
        signed_with_fallback=signed_with_fallback,
    )


def check_times(
    settings: Settings,
    *,
    session_id: str,
    started_at: datetime,
    issued_at: datetime,
    now: datetime,
    signed_with_fallback: bool,
) -> SessionClaims | None:
    """The claims if the session is within both timeouts at `now` (each end is the first
    instant it no longer is, as for the session's row), else None."""
    idle = (now - issued_at).total_seconds()
    if idle >= settings.session_idle_timeout:
        return None
    if (now - started_at).total_seconds() >= settings.session_absolute_timeout:
        return None
    refresh_after = settings.session_idle_timeout * settings.session_refresh_after
    return SessionClaims(
        session_id=session_id,
        started_at=started_at,
        issued_at=issued_at,
        signed_with_fallback=signed_with_fallback,
        needs_refresh=signed_with_fallback or idle > refresh_after,
    )


def token_lifetime(*, settings: Settings, started_at: datetime, now: datetime) -> int:
    """Seconds a token issued at `now` stays valid, for the cookie's Max-Age: never longer than
    the server accepts it, and short of that by under a second.

    A token carries whole seconds (the signature's time, the session's start), so its ends are
    counted from those, as `check_times` counts them, not from the exact instants.
    """
    signed = int(now.timestamp())
    started = int(started_at.timestamp())
    end = min(signed + settings.session_idle_timeout, started + settings.session_absolute_timeout)
    return max(0, math.floor(end - now.timestamp()))
