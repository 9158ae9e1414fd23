"""Audit events: their types, who caused them, and their data. Each is written in the database
transaction of the change it records (api/store/events.py), so that there is no change without
its event and no event without its change. No token, code, cookie or secret is ever data."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from api.observability.logs import request_id

USER_CREATED: Final = "user.created"
USER_DELETED: Final = "user.deleted"
USER_DISABLED: Final = "user.disabled"
USER_ENABLED: Final = "user.enabled"
USER_GROUPS_CHANGED: Final = "user.groups_changed"
SESSION_CREATED: Final = "session.created"
SESSION_ENDED: Final = "session.ended"
SIGN_IN_FAILED: Final = "sign_in.failed"
IDENTITY_LINKED: Final = "identity.linked"
IDENTITY_UNLINKED: Final = "identity.unlinked"
INVITATION_CREATED: Final = "invitation.created"
INVITATION_USED: Final = "invitation.used"
INVITATION_REVOKED: Final = "invitation.revoked"
ADMIN_KEY_CREATED: Final = "admin_key.created"
ADMIN_KEY_REVOKED: Final = "admin_key.revoked"
PASSKEY_ADDED: Final = "passkey.added"
PASSKEY_RENAMED: Final = "passkey.renamed"
PASSKEY_REMOVED: Final = "passkey.removed"

EVENT_TYPES: Final = (
    USER_CREATED,
    USER_DELETED,
    USER_DISABLED,
    USER_ENABLED,
    USER_GROUPS_CHANGED,
    SESSION_CREATED,
    SESSION_ENDED,
    SIGN_IN_FAILED,
    IDENTITY_LINKED,
    IDENTITY_UNLINKED,
    INVITATION_CREATED,
    INVITATION_USED,
    INVITATION_REVOKED,
    ADMIN_KEY_CREATED,
    ADMIN_KEY_REVOKED,
    PASSKEY_ADDED,
    PASSKEY_RENAMED,
    PASSKEY_REMOVED,
)

# What an event filter may name: a type, or the prefix of some ("user.").
TYPE_FILTERS: Final = frozenset(EVENT_TYPES) | {name.split(".")[0] + "." for name in EVENT_TYPES}

# Why a session ended (the `reason` of session.ended).
LOGOUT: Final = "logout"
LOGOUT_EVERYWHERE: Final = "logout_everywhere"
ENDED: Final = "ended"
REPLACED: Final = "replaced"
ADMIN: Final = "admin"
TAKEOVER: Final = "takeover"
BY_USER_DELETED: Final = "user_deleted"
BY_USER_DISABLED: Final = "user_disabled"

ActorKind = Literal["user", "admin_key", "cli", "system"]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who caused a change: a user (by email), an admin key (by id), the CLI, or Signet."""

    kind: ActorKind
    id: str | None = None

    @classmethod
    def user(cls, email: str) -> "Actor":
        return cls("user", email)

    @classmethod
    def admin_key(cls, key_id: str) -> "Actor":
        return cls("admin_key", key_id)


CLI: Final = Actor("cli")


def current_request_id() -> str | None:
    """The X-Request-ID of the request being answered; None outside one (the CLI, a task)."""
    current = request_id.get()
    return None if current == "-" else current


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to write with its change. `request_id` is read where it is built: build it in
    the request's own task (a batch writer's task has no request)."""

    type: str
    at: datetime
    actor: Actor
    email: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    request_id: str | None = field(default_factory=current_request_id)


def ended_sessions(
    ended: list[tuple[str, str]], *, at: datetime, actor: Actor, reason: str
) -> list[NewEvent]:
    """A session.ended event per (session id, email) ended for `reason`."""
    return [
        NewEvent(
            SESSION_ENDED,
            at=at,
            actor=actor,
            email=email,
            data={"session_id": session_id, "reason": reason},
        )
        for session_id, email in ended
    ]
