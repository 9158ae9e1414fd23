"""Which webhooks there are, and how each is configured: `SIGNET_WEBHOOKS` names them and
`SIGNET_WEBHOOK_<NAME>_URL`, `_SECRET` and `_EVENTS` configure each."""

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from api.auth.events import EVENT_TYPES, SIGN_IN_FAILED
from api.urls import is_http_url, is_https_or_loopback, origin_of
from api.webhooks.signing import secret_key

PREFIX = "SIGNET_WEBHOOK_"
FIELDS = frozenset({"URL", "SECRET", "EVENTS"})
_NAME = re.compile(r"^[a-z][a-z0-9]{0,31}$")
# What a webhook receives unless its _EVENTS says otherwise: failed sign-ins are many and noisy.
DEFAULT_EVENTS = tuple(name for name in EVENT_TYPES if name != SIGN_IN_FAILED)


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    name: str
    url: str
    # Event types, or prefixes ending in "." (`user.`).
    events: tuple[str, ...]
    # One key, or two during a rotation: each attempt is signed with both.
    keys: tuple[bytes, ...] = field(repr=False)
    # Of the settings as a whole: a change re-enables a webhook a 410 Gone disabled.
    digest: str = field(repr=False)

    @property
    def origin(self) -> str:
        """The URL without its path, which may be a secret of the receiver's."""
        return origin_of(self.url)

    def wants(self, event_type: str) -> bool:
        return matches(self.events, event_type)


def matches(events: Sequence[str], event_type: str) -> bool:
    """Whether `event_type` is one of `events` (types, or prefixes ending in ".")."""
    return any(
        event_type.startswith(name) if name.endswith(".") else event_type == name for name in events
    )


def webhook_names(value: object) -> tuple[str, ...]:
    """`SIGNET_WEBHOOKS`: unique, well-formed names, in order."""
    names = value if isinstance(value, tuple | list) else str(value).split(",")
    cleaned = tuple(str(name).strip().lower() for name in names if str(name).strip())
    for name in cleaned:
        if not _NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a webhook name (a-z, then a-z or 0-9)")
    if len(set(cleaned)) != len(cleaned):
        raise ValueError("names a webhook twice")
    return cleaned


def variables_of(name: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The `SIGNET_WEBHOOK_<NAME>_<FIELD>` variables of one webhook, by field."""
    prefix = f"{PREFIX}{name.upper()}_"
    return {
        key[len(prefix) :].upper(): value
        for key, value in environ.items()
        if key.upper().startswith(prefix)
    }


def parse_webhook(name: str, given: Mapping[str, str], *, production: bool) -> WebhookConfig:
    """One webhook's configuration from its variables; ValueError naming the variable that is
    wrong."""
    prefix = f"{PREFIX}{name.upper()}_"
    unknown = sorted(set(given) - FIELDS)
    if unknown:
        raise ValueError(f"{prefix}{unknown[0]} is not a webhook setting")
    values = {key: value.strip() for key, value in given.items()}
    url = values.get("URL", "")
    if not url:
        raise ValueError(f"{prefix}URL is required")
    if not is_http_url(url):
        raise ValueError(f"{prefix}URL must be an http(s) URL")
    if production and not is_https_or_loopback(url):
        raise ValueError(f"{prefix}URL must use https in production")
    secrets = values.get("SECRET", "").split()
    if not secrets:
        raise ValueError(f"{prefix}SECRET is required: whsec_ and base64 of 24 bytes or more")
    if len(secrets) > 2:
        raise ValueError(f"{prefix}SECRET holds one secret, or two (space-separated) in rotation")
    try:
        keys = tuple(secret_key(secret) for secret in secrets)
    except ValueError as error:
        raise ValueError(f"{prefix}SECRET {error}") from None
    events = tuple(item.strip() for item in values.get("EVENTS", "").split(",") if item.strip())
    for event in events:
        known = (
            any(known.startswith(event) for known in EVENT_TYPES)
            if event.endswith(".")
            else event in EVENT_TYPES
        )
        if not known:
            raise ValueError(f"{prefix}EVENTS: {event!r} is not an event type, nor a prefix of one")
    events = events or DEFAULT_EVENTS
    described = json.dumps([url, sorted(secrets), sorted(events)]).encode()
    return WebhookConfig(
        name=name,
        url=url,
        events=events,
        keys=keys,
        digest=hashlib.sha256(described).hexdigest(),
    )
