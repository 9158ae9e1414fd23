"""The ways a passkey ceremony fails, each answered with its own problem (see
api/web/problems/passkeys.py)."""

from api.auth.providers.base import AssertionRejected


class PasskeyRefused(AssertionRejected):
    """A passkey ceremony's answer that does not check out; `reason` is for logs only."""


class CounterNotIncreased(PasskeyRefused):
    """A genuine signature whose counter did not go up: a cloned authenticator, or one answer
    used twice at once."""


class PasskeyNotAdded(Exception):
    """The authenticator's answer to a registration does not check out; `reason` is for logs."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PasskeyExists(Exception):
    """That credential is registered already (to this user or another)."""


class NoSuchPasskey(Exception):
    """The user has no passkey of that id."""


class EmailUnverified(Exception):
    """Only a user whose email counts as verified may add a passkey."""
