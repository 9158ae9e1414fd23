"""Session tokens (itsdangerous, timed and salted) and the cookie that carries them."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import Response
from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from api.config import Settings

SESSION_SALT = "signet.session"


class _ClockedSigner(TimestampSigner):
    """A timestamp signer that reads the time from the injected clock, not `time.time`."""

    def __init__(self, *args: Any, clock: Callable[[], datetime], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock().timestamp())


def _serializer(settings: Settings, now: datetime) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        settings.secret_key.get_secret_value(),
        salt=SESSION_SALT,
        signer=_ClockedSigner,
        signer_kwargs={"clock": lambda: now},
    )


def issue_session_token(*, settings: Settings, email: str, now: datetime) -> str:
    """A signed token naming the user, stamped with `now`."""
    return _serializer(settings, now).dumps(email)


def read_session_token(*, settings: Settings, token: str, now: datetime) -> str | None:
    """The email in a genuine token younger than the session max age; None for anything else."""
    try:
        email = _serializer(settings, now).loads(token, max_age=settings.session_max_age)
    except BadData:
        return None
    return email if isinstance(email, str) else None


def set_session_cookie(response: Response, *, settings: Settings, token: str) -> None:
    """Attach the session to the response."""
    response.set_cookie(
        settings.cookie_name,
        token,
        max_age=settings.session_max_age,
        path="/",
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )
    response.headers["Cache-Control"] = "no-store"


def clear_session_cookie(response: Response, *, settings: Settings) -> None:
    """Tell the browser to forget the session, with the attributes it was set with."""
    response.set_cookie(
        settings.cookie_name,
        "",
        max_age=0,
        path="/",
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )
    response.headers["Cache-Control"] = "no-store"
