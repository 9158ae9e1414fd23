"""The tables (SQLModel) and the public view of a user."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, TypeDecorator, UniqueConstraint, false, true
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

from api.clock import utcnow

MAX_EMAIL_LENGTH = 254


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
    # False while every identity of the user comes from a provider that does not vouch for
    # the address; a verified sign-in for the email takes the user over.
    email_verified: bool = Field(
        default=True, nullable=False, sa_column_kwargs={"server_default": true()}
    )
    # Set by an operator: no sign-in, no session, until enabled again.
    disabled: bool = Field(
        default=False, nullable=False, sa_column_kwargs={"server_default": false()}
    )


class SessionRow(SQLModel, table=True):
    """One signed-in browser or bearer token; deleting the row ends the session."""

    __tablename__ = "sessions"

    id: str = Field(primary_key=True, max_length=64)
    email: str = Field(
        foreign_key="users.email", ondelete="CASCADE", index=True, max_length=MAX_EMAIL_LENGTH
    )
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # The provider it was started with (None: started by a test helper or before it was kept).
    provider: str | None = Field(default=None, max_length=32)
    # How its token travels: "cookie" or "bearer".
    kind: str = Field(default="cookie", max_length=8, sa_column_kwargs={"server_default": "cookie"})
    user_agent: str | None = Field(default=None, max_length=256)
    # The client's address when it was started (behind SIGNET_TRUSTED_PROXIES, the forwarded one).
    address: str | None = Field(default=None, max_length=64)
    # When it was last checked, as of the last write of the batch of sightings (it may lag).
    last_seen: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The absolute cap; rows past it are purged.
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class IdentityRow(SQLModel, table=True):
    """An account at a provider (provider, subject) through which a user signs in."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: str = Field(primary_key=True, max_length=32)
    provider: str = Field(max_length=32)
    subject: str = Field(max_length=255)
    email: str = Field(
        foreign_key="users.email", ondelete="CASCADE", index=True, max_length=MAX_EMAIL_LENGTH
    )
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    last_used: datetime = Field(sa_type=UTCDateTime, nullable=False)


class UserPublic(UserBase):
    """The signed-in user as clients see them."""

    created_at: datetime
    last_login: datetime
    email_verified: bool = True
    groups: list[str] = Field(
        default_factory=list,
        description="The user's groups, whatever put them there (by hand, an invitation, a "
        "provider's groups claim), each once, sorted.",
    )


class SpentProof(SQLModel, table=True):
    """A one-time proof already used (a redirect flow's state, a posted ID token), by digest,
    kept until it could no longer be used anyway."""

    __tablename__ = "spent_proofs"

    digest: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class RateLimitHit(SQLModel, table=True):
    """Attempts counted against a rate limit in one fixed window, by a digest of what is limited
    (an address, an email), shared by every worker and host. UNLOGGED on PostgreSQL: a crash may
    forget the counts of the last minute, which is fine for a limit."""

    __tablename__ = "rate_limit_hits"

    key: str = Field(primary_key=True, max_length=64)
    # Seconds since the epoch when the window began.
    window_start: int = Field(primary_key=True)
    hits: int = Field(nullable=False)


class EmailCode(SQLModel, table=True):
    """One sign-in message sent: its code and its link, each kept only as a keyed hash, used at
    most once (the row is deleted), until `expires_at`."""

    __tablename__ = "email_codes"

    id: str = Field(primary_key=True, max_length=32)
    # Not a foreign key: whoever asks for a code may not be a user yet.
    email: str = Field(index=True, max_length=MAX_EMAIL_LENGTH)
    code_digest: str = Field(max_length=64)
    link_digest: str = Field(max_length=64)
    # Codes tried for the email while this one was live: at the limit, the code is burned (its
    # link still works).
    attempts: int = Field(default=0, nullable=False)
    return_to: str = Field(max_length=4096)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class Invitation(SQLModel, table=True):
    """Leave for one email to sign in for the first time, with groups; live while neither
    revoked nor spent (by that first sign-in) and before `expires_at`."""

    __tablename__ = "invitations"

    id: str = Field(primary_key=True, max_length=32)
    # Not a foreign key: the invited person is not a user yet (and an invitation for a user is
    # refused).
    email: str = Field(index=True, max_length=MAX_EMAIL_LENGTH)
    # The invited groups' names joined with commas (a name cannot hold one); "" for none.
    groups: str = Field(default="", max_length=4096)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    spent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class UserGroup(SQLModel, table=True):
    """One group of a user, from one source: "manual" (signet groups add), "invitation", or
    "provider:<name>" (that provider's claim at the latest sign-in through it)."""

    __tablename__ = "user_groups"

    email: str = Field(
        foreign_key="users.email",
        ondelete="CASCADE",
        primary_key=True,
        max_length=MAX_EMAIL_LENGTH,
    )
    name: str = Field(primary_key=True, max_length=64)
    source: str = Field(primary_key=True, max_length=48)
