"""The contract every verifier keeps, and the ways verification fails."""

from dataclasses import dataclass
from typing import Protocol

from email_validator import EmailNotValidError, validate_email

DEFAULT_RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    """What a verifier vouches for: a normalised email address."""

    email: str
    issuer: str | None = None


class VerificationError(Exception):
    """Base of everything a verifier raises."""


class AssertionRejected(VerificationError):
    """The assertion does not prove an identity; `reason` is for logs, never for clients."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class VerifierUnavailable(VerificationError):
    """The verifier gave no usable answer; the client may try again later."""

    def __init__(self, reason: str, *, retry_after: int = DEFAULT_RETRY_AFTER_SECONDS) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Verifier(Protocol):
    """Turns an assertion into an identity, or raises a `VerificationError`."""

    async def verify(self, assertion: str) -> VerifiedIdentity: ...


def normalise_email(value: object) -> str:
    """A trimmed, lower-cased, syntactically valid address, or `AssertionRejected`."""
    if not isinstance(value, str):
        raise AssertionRejected("email missing or not a string")
    email = value.strip().lower()
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise AssertionRejected("email is not a valid address") from None
    return email
