"""Request and response bodies of the routes, but for the user (`store.tables`) and the bearer
token (`auth.transports`), which the layers below render."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import StrictStr, StringConstraints, field_validator
from sqlmodel import Field, SQLModel

from api.auth.emails import InvalidEmail, normalise_email

MAX_ASSERTION_LENGTH = 8192
MAX_RETURN_TO_LENGTH = 4096
# RFC 5321's limits: 64 for the local part, 255 for the domain.
MAX_EMAIL_INPUT_LENGTH = 320


def canonical_email(value: str) -> str:
    """An email address in Signet's one spelling; ValueError if it is not one."""
    try:
        return normalise_email(value)
    except InvalidEmail:
        raise ValueError("is not a valid email address") from None


class LoginRequest(SQLModel):
    """An identity assertion obtained from the identity provider."""

    model_config = {"extra": "forbid"}

    assertion: StrictStr = Field(min_length=1, max_length=MAX_ASSERTION_LENGTH)
    provider: StrictStr | None = Field(
        default=None,
        max_length=32,
        description="The provider that issued the assertion; needed when several are offered.",
    )


class EmailStartRequest(SQLModel):
    """Where to send a sign-in code, and where the link in it returns to."""

    model_config = {"extra": "forbid"}

    email: StrictStr = Field(
        min_length=3, max_length=MAX_EMAIL_INPUT_LENGTH, schema_extra={"format": "email"}
    )
    return_to: StrictStr | None = Field(
        default=None,
        max_length=MAX_RETURN_TO_LENGTH,
        description="Where the link returns to once signed in: a path here or an allowed origin.",
    )

    _canonical = field_validator("email")(canonical_email)


class EmailCodeRequest(SQLModel):
    """A code from a sign-in message, and the email it was sent to."""

    model_config = {"extra": "forbid"}

    email: StrictStr = Field(
        min_length=3, max_length=MAX_EMAIL_INPUT_LENGTH, schema_extra={"format": "email"}
    )
    code: StrictStr = Field(min_length=1, max_length=32, description="Six digits.")

    _canonical = field_validator("email")(canonical_email)


class EmailSent(SQLModel):
    """A sign-in message was accepted for delivery (the same answer for every address)."""

    email: str
    expires_in: int = Field(description="Seconds the code and link work for.")


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


class Ready(Health):
    policy: str = Field(
        description="A digest of the settings every host must share (the allow-lists, the "
        "sign-up mode, each provider's trust, domains and groups claim): hosts that answer "
        "different digests are set differently."
    )


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
    device: str | None = Field(
        default=None,
        description='The user agent in words, as a person names their device: "Chrome on '
        'Linux", "Safari on iPhone"; null when it says nothing recognisable.',
    )
    address: str | None = Field(
        default=None,
        description="The client's address when the session was started (behind a trusted "
        "proxy, the one it forwarded); null for sessions started before Signet kept it.",
    )
    current: bool = Field(description="Whether this request is made with it.")
    kind: str = Field(description="How its token travels: cookie or bearer.")


class PasskeyPublic(SQLModel):
    """One of the signed-in user's passkeys."""

    id: str = Field(description="Opaque; names the passkey to rename or remove.")
    name: str
    created_at: datetime
    last_used: datetime | None = Field(description="The last sign-in with it; null if none.")
    backed_up: bool = Field(
        description="Whether the authenticator says it is synced (a copy survives losing it)."
    )
    transports: list[str] = Field(description="How the browser reached the authenticator.")


PasskeyName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class PasskeyRegistration(SQLModel):
    """An authenticator's answer to the creation options, and a name for the passkey."""

    credential: dict[str, Any] = Field(
        description="The RegistrationResponseJSON (`PublicKeyCredential.toJSON()`)."
    )
    name: PasskeyName | None = None


class PasskeyAuthentication(SQLModel):
    """An authenticator's answer to the request options."""

    credential: dict[str, Any] = Field(
        description="The AuthenticationResponseJSON (`PublicKeyCredential.toJSON()`)."
    )


class PasskeyRename(SQLModel):
    name: PasskeyName
