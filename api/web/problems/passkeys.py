"""The problems that answer passkey errors (merged into the table in table.py)."""

from collections.abc import Callable
from typing import Any

from api.auth.passkey_errors import (
    EmailUnverified,
    NoSuchPasskey,
    PasskeyExists,
    PasskeyNotAdded,
    PasskeyRefused,
)
from api.web.problems.types import PROBLEM_TYPE_BASE, Problem


def _no_headers(_error: Any) -> dict[str, str]:
    return {}


PASSKEY_PROBLEMS: dict[type[Exception], tuple[Problem, Callable[[Any], dict[str, str]]]] = {
    PasskeyRefused: (
        Problem(
            type=PROBLEM_TYPE_BASE + "passkey-rejected",
            title="Passkey rejected",
            status=401,
            detail="This passkey's answer did not check out, or its challenge expired or was "
            "used already: ask for new options and try again.",
        ),
        _no_headers,
    ),
    PasskeyNotAdded: (
        Problem(
            type=PROBLEM_TYPE_BASE + "passkey-not-added",
            title="Passkey not added",
            status=400,
            detail="The authenticator's answer did not check out, or its challenge expired or "
            "was used already: ask for new options and try again.",
        ),
        _no_headers,
    ),
    PasskeyExists: (
        Problem(
            type=PROBLEM_TYPE_BASE + "passkey-exists",
            title="Passkey registered already",
            status=409,
            detail="This authenticator's passkey is registered already.",
        ),
        _no_headers,
    ),
    NoSuchPasskey: (
        Problem(
            type=PROBLEM_TYPE_BASE + "no-such-passkey",
            title="Not Found",
            status=404,
            detail="You have no passkey with this id.",
        ),
        _no_headers,
    ),
    EmailUnverified: (
        Problem(
            type=PROBLEM_TYPE_BASE + "email-unverified",
            title="Email not verified",
            status=403,
            detail="Only an account whose email address is verified may add a passkey: sign in "
            "once with a provider that vouches for it, or with a code sent by email.",
        ),
        _no_headers,
    ),
}
