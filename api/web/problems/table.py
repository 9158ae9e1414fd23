"""The table of problem types: which problem, with which headers, answers each domain error."""

import math
from collections.abc import Callable
from typing import Any

from api.auth.accounts import AccountDisabled, AccountExists, LastIdentity, NoSuchIdentity
from api.auth.admin_keys import BadAdminKey
from api.auth.email_codes import CodeRejected
from api.auth.flows import FlowRefused, InvalidReturnTo
from api.auth.invitation_changes import InvitationNotLive
from api.auth.policy import NotAllowed
from api.auth.providers.base import (
    DEFAULT_RETRY_AFTER_SECONDS,
    AssertionRejected,
    VerifierUnavailable,
)
from api.auth.providers.registry import (
    NoRedirectFlow,
    ProviderRequired,
    TakesNoAssertions,
    UnknownProvider,
)
from api.auth.provisioning import UserExists
from api.auth.rate_limit import TooManyRequests
from api.auth.sessions import NoSuchSession
from api.mail.mailer import MailUnavailable
from api.store.invitations import AlreadyAUser, LiveInvitationExists
from api.web.problems.passkeys import PASSKEY_PROBLEMS
from api.web.problems.types import PROBLEM_TYPE_BASE, Problem


def retry_after(seconds: float) -> dict[str, str]:
    # Rounded up: a client that waits as long as it is told is never early.
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


# The domain's errors, each with its problem and the headers it adds.
DOMAIN_PROBLEMS: dict[type[Exception], tuple[Problem, Callable[[Any], dict[str, str]]]] = {
    AssertionRejected: (
        Problem(
            type=PROBLEM_TYPE_BASE + "assertion-rejected",
            title="Assertion rejected",
            status=401,
            detail="The identity provider did not vouch for this assertion.",
        ),
        lambda _error: {},
    ),
    CodeRejected: (
        Problem(
            type=PROBLEM_TYPE_BASE + "code-rejected",
            title="Code rejected",
            status=401,
            detail="This code or link is wrong, has expired or was used already; ask for a new "
            "one.",
        ),
        lambda _error: {},
    ),
    MailUnavailable: (
        Problem(
            type=PROBLEM_TYPE_BASE + "mail-unavailable",
            title="Email not sent",
            status=503,
            detail="The message could not be sent (the mail server did not take it); try again "
            "shortly.",
        ),
        lambda _error: retry_after(DEFAULT_RETRY_AFTER_SECONDS),
    ),
    TakesNoAssertions: (
        Problem(
            type=PROBLEM_TYPE_BASE + "takes-no-assertions",
            title="Provider takes no assertions",
            status=400,
            detail="This provider signs in with codes sent by email: POST /auth/email/start.",
        ),
        lambda _error: {},
    ),
    TooManyRequests: (
        Problem(
            type=PROBLEM_TYPE_BASE + "too-many-requests",
            title="Too many requests",
            status=429,
            detail="Too many sign-in attempts; wait before trying again.",
        ),
        lambda error: retry_after(error.retry_after),
    ),
    UnknownProvider: (
        Problem(
            type=PROBLEM_TYPE_BASE + "unknown-provider",
            title="Unknown provider",
            status=400,
            detail="No provider of that name is offered; GET /auth/providers lists them.",
        ),
        lambda _error: {},
    ),
    ProviderRequired: (
        Problem(
            type=PROBLEM_TYPE_BASE + "provider-required",
            title="Provider required",
            status=400,
            detail="Several providers are offered: say which issued the assertion.",
        ),
        lambda _error: {},
    ),
    AccountExists: (
        Problem(
            type=PROBLEM_TYPE_BASE + "account-exists",
            title="Account exists",
            status=409,
            detail="An account with this email exists, and this provider does not vouch that "
            "the address is yours: sign in the way you did before.",
        ),
        lambda _error: {},
    ),
    AccountDisabled: (
        Problem(
            type=PROBLEM_TYPE_BASE + "account-disabled",
            title="Account disabled",
            status=403,
            detail="This account is disabled. Ask whoever runs this site.",
        ),
        lambda _error: {},
    ),
    BadAdminKey: (
        Problem(
            type=PROBLEM_TYPE_BASE + "admin-key-required",
            title="Admin key required",
            status=401,
            detail="The admin API takes an admin key as Authorization: Bearer sk_…; this one is "
            "missing, unknown or revoked.",
        ),
        lambda _error: {"WWW-Authenticate": 'Bearer realm="signet admin"'},
    ),
    UserExists: (
        Problem(
            type=PROBLEM_TYPE_BASE + "user-exists",
            title="User exists",
            status=409,
            detail="There is a user with this email already.",
        ),
        lambda _error: {},
    ),
    LiveInvitationExists: (
        Problem(
            type=PROBLEM_TYPE_BASE + "invitation-exists",
            title="Invitation exists",
            status=409,
            detail="This email has a live invitation already: revoke it first to invite again.",
        ),
        lambda _error: {},
    ),
    AlreadyAUser: (
        Problem(
            type=PROBLEM_TYPE_BASE + "already-a-user",
            title="Already a user",
            status=409,
            detail="This email is a user's already: they need no invitation.",
        ),
        lambda _error: {},
    ),
    InvitationNotLive: (
        Problem(
            type=PROBLEM_TYPE_BASE + "invitation-not-live",
            title="Invitation not live",
            status=409,
            detail="This invitation was spent, revoked or has expired already.",
        ),
        lambda _error: {},
    ),
    NotAllowed: (
        Problem(
            type=PROBLEM_TYPE_BASE + "not-allowed",
            title="Not allowed",
            status=403,
            detail="This site does not let this account in. Ask whoever runs it for access.",
        ),
        lambda _error: {},
    ),
    NoSuchSession: (
        Problem(
            type=PROBLEM_TYPE_BASE + "no-such-session",
            title="No such session",
            status=404,
            detail="You have no live session of that id.",
        ),
        lambda _error: {},
    ),
    NoSuchIdentity: (
        Problem(
            type=PROBLEM_TYPE_BASE + "no-such-identity",
            title="No such identity",
            status=404,
            detail="You have no identity of that id.",
        ),
        lambda _error: {},
    ),
    LastIdentity: (
        Problem(
            type=PROBLEM_TYPE_BASE + "last-identity",
            title="Last identity",
            status=409,
            detail="This is the only way you sign in; link another before removing it.",
        ),
        lambda _error: {},
    ),
    NoRedirectFlow: (
        Problem(
            type=PROBLEM_TYPE_BASE + "no-such-provider",
            title="Unknown provider",
            status=404,
            detail="No provider of that name signs in through the redirect flow here.",
        ),
        lambda _error: {},
    ),
    InvalidReturnTo: (
        Problem(
            type=PROBLEM_TYPE_BASE + "invalid-return-to",
            title="Return address refused",
            status=400,
            detail="return_to must be a path on this site or a URL on an allowed origin.",
        ),
        lambda _error: {},
    ),
    FlowRefused: (
        Problem(
            type=PROBLEM_TYPE_BASE + "flow-refused",
            title="Sign-in flow refused",
            status=400,
            detail="This answer belongs to no sign-in this browser started, or one already "
            "finished; start again.",
        ),
        lambda _error: {},
    ),
    VerifierUnavailable: (
        Problem(
            type=PROBLEM_TYPE_BASE + "verifier-unavailable",
            title="Verifier unavailable",
            status=503,
            detail="The identity verifier could not be reached; try again shortly.",
        ),
        lambda error: retry_after(error.retry_after),
    ),
}

DOMAIN_PROBLEMS |= PASSKEY_PROBLEMS


def problem_of(error: Exception) -> tuple[Problem, dict[str, str]] | None:
    """The problem a domain error is answered with, and its headers; None for other errors."""
    # The nearest mapped class: subclasses map like their base.
    mapped = next((cls for cls in type(error).__mro__ if cls in DOMAIN_PROBLEMS), None)
    if mapped is None:
        return None
    problem, headers = DOMAIN_PROBLEMS[mapped]
    return problem, headers(error)
