"""The groups claim (SIGNET_PROVIDER_<NAME>_GROUPS_CLAIM) of an OpenID provider: read from the
ID token, or from userinfo when the code flow fetched it, and made into group names.

The answer is what the sign-in writer makes of the provider's groups: a tuple replaces them (the
empty one too: a missing claim means the provider puts the user in no group), None leaves them
as they were (the claim cannot be read, or Entra says the list is elsewhere).
"""

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from api.auth.groups import valid_group

logger = logging.getLogger("signet.verifier")
# Invalid names named in a log line, at most; the rest are counted.
MAX_LOGGED_NAMES = 5


def claimed_groups(
    sources: Sequence[Mapping[str, Any]], claim: str, *, provider: str
) -> tuple[str, ...] | None:
    """The groups the first of `sources` (the ID token's claims, then userinfo's) that has the
    `claim` lists: valid names, distinct and sorted; () when none has it; None (logged) when the
    claim is not a JSON array of strings, or an overage marker stands in for it."""
    for source in sources:
        if _overage(source, claim):
            # Entra: too many groups for a token; the list would have to be fetched from Graph.
            # Signet does not: the provider's groups stay as they were.
            logger.warning(
                "provider %s: the %s claim is elsewhere (overage, _claim_names); "
                "the user's groups from it are left as they were",
                provider,
                claim,
            )
            return None
        if claim in source:
            return _names(source[claim], claim, provider=provider)
    return ()


def _overage(source: Mapping[str, Any], claim: str) -> bool:
    names = source.get("_claim_names")
    return isinstance(names, dict) and claim in names


def _names(value: object, claim: str, *, provider: str) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        # Not what was configured (a string, an object, numbers): treated as unreadable rather
        # than as "no groups", so a provider's misconfiguration does not empty everyone's.
        logger.warning(
            "provider %s: the %s claim is not a JSON array of strings (%s); "
            "the user's groups from it are left as they were",
            provider,
            claim,
            type(value).__name__,
        )
        return None
    # Keycloak's "Full group path" gives "/admins": the leading "/" goes. A nested group's path
    # ("/staff/admins") keeps a "/" inside ("staff/admins"), which no group name holds: it is
    # dropped with the other invalid names (turn "Full group path" off to get "admins").
    normalised = {item.lower().removeprefix("/") for item in value}
    valid = sorted(name for name in normalised if valid_group(name))
    invalid = sorted(normalised.difference(valid))
    if invalid:
        logger.warning(
            "provider %s: %d names in the %s claim are not group names, dropped: %s",
            provider,
            len(invalid),
            claim,
            ", ".join(repr(name[:80]) for name in invalid[:MAX_LOGGED_NAMES]),
        )
    return tuple(valid)
