"""What Signet stores and what it sends."""

from datetime import UTC, datetime
from typing import Any

from pydantic import StrictStr
from sqlalchemy import DateTime, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

MAX_EMAIL_LENGTH = 254
MAX_ASSERTION_LENGTH = 8192


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp, also on SQLite, which stores it without a zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UserBase(SQLModel):
    email: str = Field(max_length=MAX_EMAIL_LENGTH)


class User(UserBase, table=True):
    """A person who has signed in; the email is the whole identity."""

    __tablename__ = "users"

    email: str = Field(primary_key=True, max_length=MAX_EMAIL_LENGTH)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_login: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class LoginSession(SQLModel, table=True):
    """One signed-in browser or bearer token; ending it (deleting the row) ends the session."""

    __tablename__ = "sessions"

    id: str = Field(primary_key=True, max_length=64)
    email: str = Field(
        foreign_key="users.email", ondelete="CASCADE", index=True, max_length=MAX_EMAIL_LENGTH
    )
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # The absolute cap; rows past it are purged.
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class UserPublic(UserBase):
    """The signed-in user as clients see them."""

    created_at: datetime
    last_login: datetime


class LoginRequest(SQLModel):
    """An identity assertion obtained from the identity provider."""

    model_config = {"extra": "forbid"}

    assertion: StrictStr = Field(min_length=1, max_length=MAX_ASSERTION_LENGTH)


class BearerToken(SQLModel):
    """A session for a client that sends `Authorization: Bearer` instead of a cookie."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth 2 token type, not a secret)
    expires_in: int = Field(description="Seconds until the token expires.")


class Health(SQLModel):
    status: str = "ok"
