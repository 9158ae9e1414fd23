"""Request and response bodies of the routes, but for the user (`store.tables`) and the bearer
token (`auth.transports`), which the layers below render."""

from datetime import datetime

from pydantic import StrictStr
from sqlmodel import Field, SQLModel

MAX_ASSERTION_LENGTH = 8192


class LoginRequest(SQLModel):
    """An identity assertion obtained from the identity provider."""

    model_config = {"extra": "forbid"}

    assertion: StrictStr = Field(min_length=1, max_length=MAX_ASSERTION_LENGTH)
    provider: StrictStr | None = Field(
        default=None,
        max_length=32,
        description="The provider that issued the assertion; needed when several are offered.",
    )


class ProviderListing(SQLModel):
    """A provider a person may sign in with."""

    name: str
    kind: str
    display_name: str
    start_url: str | None = Field(
        description="Where a browser starts signing in; null for providers that only take a "
        "posted assertion.",
    )


class Health(SQLModel):
    status: str = "ok"


class IdentityPublic(SQLModel):
    """An account at a provider through which the user signs in."""

    id: str = Field(description="Opaque; names the identity to remove.")
    provider: str
    subject: str
    created_at: datetime
    last_used: datetime


class SessionPublic(SQLModel):
    """One of the user's live sessions."""

    id: str = Field(description="Names the session to end.")
    created_at: datetime
    last_seen: datetime = Field(
        description="When it was last checked; written in batches, so it may lag by up to "
        "SIGNET_SESSION_SEEN_INTERVAL (60 s) on other workers."
    )
    user_agent: str | None
    current: bool = Field(description="Whether this request is made with it.")
    kind: str = Field(description="How its token travels: cookie or bearer.")
