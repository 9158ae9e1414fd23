"""The tables behind operators' tools: admin keys, the audit log, and webhook deliveries."""

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, Text
from sqlmodel import Field, SQLModel

from api.store.tables import MAX_EMAIL_LENGTH, UTCDateTime

# SQLite gives AUTOINCREMENT (ids never reused, even after a purge) only to an INTEGER key.
EVENT_ID = BigInteger().with_variant(Integer(), "sqlite")


class AdminKey(SQLModel, table=True):
    """A key for the admin API, kept only as the SHA-256 of the key (its own entropy suffices:
    rotating SIGNET_SECRET_KEY must not void it)."""

    __tablename__ = "admin_keys"

    id: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=64)
    digest: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    last_used: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EventRow(SQLModel, table=True):
    """One audit event, written in the transaction of the change it records. Ids increase in
    commit order (see store/events.py), which is what `after=` and webhook delivery rely on."""

    __tablename__ = "events"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(
        default=None, sa_column=Column(EVENT_ID, primary_key=True, autoincrement=True)
    )
    type: str = Field(max_length=32, index=True)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    # Not a foreign key: the log outlives the user it names.
    email: str | None = Field(default=None, max_length=MAX_EMAIL_LENGTH, index=True)
    actor_kind: str = Field(max_length=16)
    actor_id: str | None = Field(default=None, max_length=MAX_EMAIL_LENGTH)
    # As long as an incoming X-Request-ID may be (api/observability/logs.py).
    request_id: str | None = Field(default=None, max_length=128)
    # The event's data, as JSON.
    data: str = Field(sa_column=Column(Text, nullable=False))


class WebhookDelivery(SQLModel, table=True):
    """One event owed to one webhook: pending until a 2xx (delivered) or its age runs out
    (failed). A worker claims it by setting `lease_until`; a crash lets the lease lapse."""

    __tablename__ = "webhook_deliveries"

    webhook: str = Field(primary_key=True, max_length=32)
    event_id: int = Field(
        sa_column=Column(
            EVENT_ID,
            ForeignKey("events.id", ondelete="CASCADE"),
            primary_key=True,
            # The purge deletes events, and with them their deliveries, by this column.
            index=True,
        )
    )
    status: str = Field(max_length=16, index=True)
    attempts: int = Field(default=0, nullable=False)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)


class WebhookState(SQLModel, table=True):
    """Per webhook: the newest event handed to its deliveries, and whether a `410 Gone`
    disabled it (until its settings, by digest, change)."""

    __tablename__ = "webhook_state"

    name: str = Field(primary_key=True, max_length=32)
    last_event_id: int = Field(sa_column=Column(EVENT_ID, nullable=False))
    settings_digest: str = Field(max_length=64)
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
