"""Why a sign-in failed, as one word: what a failed redirect flow tells the page it returns to
(`signet_error`), and the reason a sign_in.failed event records."""

from api.auth.accounts import AccountDisabled, AccountExists, IdentityInUse
from api.auth.policy import NotAllowed
from api.auth.providers.base import AssertionRejected, EmailNotVerified, VerifierUnavailable
from api.auth.rate_limit import TooManyRequests

# By cause, the most specific first.
FAILURES: tuple[tuple[type[Exception], str], ...] = (
    (EmailNotVerified, "email_not_verified"),
    (AccountExists, "account_exists"),
    (AccountDisabled, "account_disabled"),
    (NotAllowed, "not_allowed"),
    (IdentityInUse, "identity_in_use"),
    (AssertionRejected, "invalid_response"),
    (VerifierUnavailable, "provider_unavailable"),
    (TooManyRequests, "temporarily_unavailable"),
)
FAILED = tuple(cause for cause, _ in FAILURES)


def failure_reason(error: Exception) -> str:
    """The word for `error`, one of FAILED's."""
    return next(word for cause, word in FAILURES if isinstance(error, cause))
