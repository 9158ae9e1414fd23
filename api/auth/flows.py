"""Redirect-flow state: state, nonce and PKCE verifier, sealed in a short-lived signed cookie (never
in the URL), and the allow-list every `return_to` passes."""

import base64
import hashlib
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from itsdangerous import BadData
from pydantic import SecretStr

from api.auth.tokens import timed_serializer

FLOW_LIFETIME = timedelta(minutes=10)
_SALT = "signet.flow"


class InvalidReturnTo(ValueError):
    """A `return_to` that is neither a path here nor an allowed origin."""


class FlowRefused(Exception):
    """A callback that belongs to no live flow of this browser's; `reason` is for logs."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Flow:
    """One sign-in through a provider's authorization endpoint, from start to callback."""

    provider: str
    state: str
    nonce: str
    verifier: str
    return_to: str
    # Linking: the signed-in user the provider account is to be added to, not signed in as.
    link_to: str | None = None

    @classmethod
    def start(cls, provider: str, return_to: str, *, link_to: str | None = None) -> "Flow":
        return cls(
            provider=provider,
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            verifier=secrets.token_urlsafe(48),  # 64 characters, within RFC 7636's 43-128
            return_to=return_to,
            link_to=link_to,
        )

    @property
    def challenge(self) -> str:
        """The PKCE S256 code challenge of the verifier."""
        digest = hashlib.sha256(self.verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def seal(flow: Flow, *, key: SecretStr, now: datetime) -> str:
    """The flow as a signed cookie value."""
    return timed_serializer(key.get_secret_value(), salt=_SALT, now=now).dumps(asdict(flow))


def unseal(value: str | None, *, key: SecretStr, now: datetime) -> Flow | None:
    """The flow a genuine, unexpired cookie value holds; None for anything else."""
    if not value:
        return None
    serializer = timed_serializer(key.get_secret_value(), salt=_SALT, now=now)
    try:
        fields = serializer.loads(value, max_age=int(FLOW_LIFETIME.total_seconds()))
        return Flow(**fields)
    except (BadData, TypeError):
        return None


def checked_return_to(value: str | None, *, allowed_origins: frozenset[str]) -> str:
    """`value` if it is a path on this site or a URL on an allowed origin; "/" if absent."""
    if not value:
        return "/"
    if "\\" in value or any(ord(character) < 0x21 for character in value):
        raise InvalidReturnTo(value)  # browsers read "\\" as "/"; controls hide tricks
    if value.startswith("/"):
        if value.startswith("//"):
            raise InvalidReturnTo(value)  # scheme-relative: another host
        return value
    try:
        parts = urlsplit(value)
        hostname, username = parts.hostname, parts.username
    except ValueError:  # "http://[::1", say
        raise InvalidReturnTo(value) from None
    if parts.scheme not in ("http", "https") or not hostname or username is not None:
        raise InvalidReturnTo(value)
    if f"{parts.scheme}://{parts.netloc}".lower() not in allowed_origins:
        raise InvalidReturnTo(value)
    return value


def with_error(return_to: str, code: str) -> str:
    """`return_to` with `signet_error=<code>` added to its query."""
    parts = urlsplit(return_to)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("signet_error", code)]
    return urlunsplit(parts._replace(query=urlencode(query)))
