"""The admin API's request and response bodies. Requests refuse unknown fields; emails in them
are canonicalised and group names checked, so a bad one is a 422 problem."""

from datetime import datetime
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    field_validator,
    model_validator,
)

from api.auth.groups import MAX_DURATION, InvalidGroup, check_groups
from api.web.schemas import MAX_EMAIL_INPUT_LENGTH, IdentityPublic, canonical_email

# A request's groups: the most a user is put in at once.
MAX_GROUPS = 100
DEFAULT_INVITATION_LIFETIME = 7 * 24 * 3600


def checked_groups(names: list[str]) -> list[str]:
    """Group names, distinct and sorted; ValueError naming the first bad one."""
    try:
        return check_groups(names)
    except InvalidGroup as error:
        # Which one is not said: a problem never echoes what was sent.
        raise ValueError(
            "not a group name: lower-case letters, digits, '.', '_' and '-', from a letter or "
            "digit, up to 64"
        ) from error


Email: Any = Field(
    min_length=3, max_length=MAX_EMAIL_INPUT_LENGTH, json_schema_extra={"format": "email"}
)
Groups: Any = Field(
    default_factory=list,
    max_length=MAX_GROUPS,
    description="Group names: lower-case letters, digits, `.`, `_`, `-`; up to 64 characters.",
)


class UserCreate(BaseModel):
    """A user to create before their first sign-in, in groups managed by hand."""

    model_config = ConfigDict(extra="forbid")

    email: StrictStr = Email
    groups: list[StrictStr] = Groups

    _canonical = field_validator("email")(canonical_email)
    _groups = field_validator("groups")(checked_groups)


class UserChange(BaseModel):
    """What to change of a user: disabled, the groups managed by hand, or both."""

    model_config = ConfigDict(extra="forbid")

    disabled: StrictBool | None = Field(
        default=None,
        description="true ends every session of the user at once and refuses their sign-ins; "
        "false lets them sign in again (ended sessions stay ended).",
    )
    groups: list[StrictStr] | None = Field(
        default=None,
        max_length=MAX_GROUPS,
        description="The groups managed by hand (and by invitation) become exactly these; a "
        "provider's groups are the provider's.",
    )

    @field_validator("groups")
    @classmethod
    def _groups(cls, names: list[str] | None) -> list[str] | None:
        return None if names is None else checked_groups(names)

    @model_validator(mode="after")
    def _something(self) -> "UserChange":
        if self.disabled is None and self.groups is None:
            raise ValueError("say what to change: disabled, groups, or both")
        return self


class AdminUser(BaseModel):
    """A user as operators see them."""

    email: str
    email_verified: bool = Field(
        description="Whether a provider that vouches for addresses signed them in (false for a "
        "user created here until then)."
    )
    created_at: datetime
    last_login: datetime = Field(description="The latest sign-in; created_at until the first.")
    disabled: bool
    groups: list[str] = Field(description="Every group, whatever its source, each once, sorted.")
    providers: list[str] = Field(description="The providers of their identities, sorted.")
    sessions: int = Field(description="How many live sessions they have.")


class AdminUserDetail(AdminUser):
    """A user with their identities."""

    identities: list[IdentityPublic]


class AdminSession(BaseModel):
    """A live session of a user."""

    id: str = Field(description="Names the session to end.")
    created_at: datetime
    last_seen: datetime = Field(
        description="When it was last checked, as written (batched: it may lag by up to "
        "SIGNET_SESSION_SEEN_INTERVAL)."
    )
    expires_at: datetime
    user_agent: str | None
    device: str | None
    address: str | None = Field(description="The client's address when it signed in.")
    kind: str = Field(description="How its token travels: cookie or bearer.")
    provider: str | None = Field(description="The provider it signed in with.")


class InvitationCreate(BaseModel):
    """Leave for an email to sign in for the first time, with groups."""

    model_config = ConfigDict(extra="forbid")

    email: StrictStr = Email
    groups: list[StrictStr] = Groups
    expires_in: int = Field(
        default=DEFAULT_INVITATION_LIFETIME,
        ge=1,
        le=int(MAX_DURATION.total_seconds()),
        strict=True,
        description="Seconds it may be used for (7 days unless said).",
    )

    _canonical = field_validator("email")(canonical_email)
    _groups = field_validator("groups")(checked_groups)


class InvitationPublic(BaseModel):
    """An invitation, and what became of it."""

    id: str
    email: str
    groups: list[str]
    state: str = Field(description="live, expired, revoked or spent.")
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    spent_at: datetime | None
