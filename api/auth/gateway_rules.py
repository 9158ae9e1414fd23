"""Per-route rules a gateway asks `/auth/check` to apply, as oauth2-proxy's `allowed_groups`:
`?group=` (any of the groups), `?email=` (one of the addresses), `?domain=` (the email's domain,
matched as the allow-lists match it). Each takes a comma-separated list or is repeated; given
several kinds, every kind must match. An unverified email never matches `email` or `domain`.

An empty or unknown parameter, or a value that could never match, is refused (`InvalidRule`):
a typo must never open a path.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl

from api.auth.groups import valid_group
from api.auth.policy import AllowList, allow_list, domain_entry, email_entry

KINDS = ("group", "email", "domain")
# Gateways ask with a few query strings, again and again: each is parsed once.
_PARSED_QUERIES = 512


class InvalidRule(ValueError):
    """A query `/auth/check` cannot take; the message says why, for the 400's detail."""


@dataclass(frozen=True, slots=True)
class AccessRule:
    """What a request's user must be to pass; an empty rule lets every signed-in user pass."""

    groups: frozenset[str] | None = None
    emails: frozenset[str] | None = None
    domains: AllowList | None = None

    def allows(self, *, email: str, verified: bool, groups: Iterable[str]) -> bool:
        if self.groups is not None and self.groups.isdisjoint(groups):
            return False
        if self.emails is not None and not (verified and email in self.emails):
            return False
        domain = email.rpartition("@")[2]
        return self.domains is None or (verified and self.domains.matches_domain(domain))


EVERYONE = AccessRule()


@lru_cache(maxsize=_PARSED_QUERIES)
def access_rule(query: str) -> AccessRule:
    """The rule a query string asks for; `InvalidRule` if it is not one."""
    if not query:
        return EVERYONE
    values: dict[str, list[str]] = {}
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InvalidRule("the query string is malformed") from None
    for name, value in pairs:
        if name not in KINDS:
            raise InvalidRule(
                f"unknown parameter {name[:64]!r}: /auth/check takes group, email and domain"
            )
        items = [item.strip() for item in value.split(",")]
        if not all(items):
            raise InvalidRule(f"{name} has an empty value")
        values.setdefault(name, []).extend(items)
    return AccessRule(
        groups=_groups(values["group"]) if "group" in values else None,
        emails=_entries(values["email"], email_entry) if "email" in values else None,
        domains=allow_list(domains=_entries(values["domain"], domain_entry))
        if "domain" in values
        else None,
    )


def _groups(names: list[str]) -> frozenset[str]:
    for name in names:
        if not valid_group(name):
            raise InvalidRule(f"group {name[:64]!r} is not a group name (a-z, 0-9, '.', '_', '-')")
    return frozenset(names)


def _entries(items: list[str], canonical: Callable[[str], str]) -> frozenset[str]:
    try:
        return frozenset(canonical(item) for item in items)
    except ValueError as error:
        raise InvalidRule(str(error)[:200]) from None
