"""The passkeys table: one WebAuthn credential of a user's, and what checking it needs."""

from datetime import datetime

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from api.store.tables import MAX_EMAIL_LENGTH, UTCDateTime

# A credential id is at most 1023 bytes (WebAuthn), 1364 characters in base64url.
MAX_CREDENTIAL_ID_BYTES = 1023
MAX_CREDENTIAL_ID_LENGTH = 1400
MAX_PUBLIC_KEY_LENGTH = 4096
MAX_PASSKEY_NAME_LENGTH = 64


class PasskeyRow(SQLModel, table=True):
    """A passkey: its credential (id and public key, base64url), the user it signs in as, and
    the opaque user handle the authenticator keeps with it (never the email)."""

    __tablename__ = "passkeys"

    id: str = Field(primary_key=True, max_length=32)
    credential_id: str = Field(max_length=MAX_CREDENTIAL_ID_LENGTH, unique=True)
    email: str = Field(
        foreign_key="users.email", ondelete="CASCADE", index=True, max_length=MAX_EMAIL_LENGTH
    )
    user_handle: str = Field(max_length=128)
    public_key: str = Field(max_length=MAX_PUBLIC_KEY_LENGTH)
    # The authenticator's signature counter (32 bits, unsigned); 0 where it keeps none.
    sign_count: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    name: str = Field(max_length=MAX_PASSKEY_NAME_LENGTH)
    # How the browser may reach the authenticator ("internal", "hybrid", "usb"…), comma-joined.
    transports: str = Field(default="", max_length=256)
    # Whether the authenticator says it is synced (a copy elsewhere survives losing this one).
    backed_up: bool = Field(default=False)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    last_used: datetime | None = Field(default=None, sa_type=UTCDateTime)
