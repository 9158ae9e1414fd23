"""The contract every provider keeps, and the ways verifying a proof fails."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from api.auth.emails import InvalidEmail, normalise_email

if TYPE_CHECKING:
    from api.auth.flows import Flow

logger = logging.getLogger("signet.verifier")

DEFAULT_RETRY_AFTER_SECONDS = 5
MAX_LOGGED_REASON = 200


@dataclass(frozen=True, slots=True)
class Identity:
    """What a provider vouches for: a normalised email address."""

    email: str
    issuer: str | None = None
    # The provider's id for the account; None where the email is the id (Persona).
    subject: str | None = None
    # Whether the provider vouches that the address is the person's (see accounts.py).
    email_verified: bool = True
    # The groups its groups claim lists (SIGNET_PROVIDER_<NAME>_GROUPS_CLAIM), valid names only;
    # None where it has no such claim, or the claim could not be read (the groups stay as
    # they were).
    groups: tuple[str, ...] | None = None
    # A proof that may be used once (a posted ID token): its digest, and when it expires.
    # Not part of who the identity is, so not compared.
    one_time_proof: str | None = field(default=None, compare=False)
    proof_expires_at: datetime | None = field(default=None, compare=False)
    # A passkey's signature counter as this sign-in left it (recorded with its session).
    sign_count: int | None = field(default=None, compare=False)


class VerificationError(Exception):
    """Base of everything a provider raises."""


class AssertionRejected(VerificationError):
    """The assertion does not prove an identity; `reason` is for logs, never for clients."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EmailNotVerified(AssertionRejected):
    """The provider does not vouch that the address is the person's."""


class VerifierUnavailable(VerificationError):
    """The provider gave no usable answer; the client may try again later."""

    def __init__(self, reason: str, *, retry_after: int = DEFAULT_RETRY_AFTER_SECONDS) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Provider(Protocol):
    """Turns an assertion into an identity, or raises a `VerificationError`."""

    # As SIGNET_PROVIDERS names it.
    name: str

    async def verify(self, assertion: str) -> Identity: ...


class RedirectProvider(Provider, Protocol):
    """A provider a browser signs in with through its authorization endpoint."""

    async def authorization_url(self, flow: "Flow", *, redirect_uri: str) -> str: ...

    async def complete(self, flow: "Flow", *, code: str, redirect_uri: str) -> Identity: ...


def email_claim(value: object) -> str:
    """The normalised address a provider asserted, or `AssertionRejected`."""
    if not isinstance(value, str):
        raise AssertionRejected("email missing or not a string")
    try:
        return normalise_email(value)
    except InvalidEmail:
        raise AssertionRejected("email is not a valid address") from None


@contextmanager
def failures_logged(*, proof: str, source: str) -> Iterator[None]:
    """Log why a proof failed (never the proof itself), and let the error go on."""
    try:
        yield
    except AssertionRejected as rejection:
        logger.warning("%s rejected: %s", proof, rejection.reason)
        raise
    except VerifierUnavailable as unavailable:
        logger.error("%s unavailable: %s", source, unavailable.reason)
        raise


def loggable(value: object) -> str:
    """A provider's words, quoted and cut short so they cannot forge log lines."""
    return repr(value)[:MAX_LOGGED_REASON]
