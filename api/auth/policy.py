"""Who may come in: the allow-lists of emails and domains, deployment-wide and per provider.

Compared in the canonical email form (auth/emails.py), so the Unicode and punycode spellings of
a domain are one. Only an email that counts as verified can match: whoever runs an untrusted
provider could write any address.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from api.auth.emails import InvalidEmail, normalise_email


class Signed(Protocol):
    """A signed-in user, as the policy reads one."""

    email: str
    email_verified: bool


class NotAllowed(Exception):
    """The policy does not let this email in."""


@dataclass(frozen=True, slots=True)
class AllowList:
    """Emails, whole domains, and domains whose subdomains (`*.corp.example`) are allowed."""

    emails: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()
    # ".corp.example" for "*.corp.example": any subdomain, not the domain itself.
    suffixes: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.emails or self.domains or self.suffixes)

    def matches(self, email: str) -> bool:
        """Whether the canonical `email` is listed or in a listed domain."""
        domain = email.rpartition("@")[2]
        return email in self.emails or self.matches_domain(domain)

    def matches_domain(self, domain: str) -> bool:
        return domain in self.domains or domain.endswith(self.suffixes)


def domain_entry(entry: str) -> str:
    """A domain entry in its canonical spelling (`*.` kept); ValueError naming it if malformed."""
    wildcard = entry.startswith("*.")
    bare = entry[2:] if wildcard else entry
    try:
        canonical = normalise_email(f"x@{bare}").rpartition("@")[2]
    except InvalidEmail:
        raise ValueError(f"{entry!r} is not a domain (or *.domain)") from None
    return f"*.{canonical}" if wildcard else canonical


def email_entry(entry: str) -> str:
    try:
        return normalise_email(entry)
    except InvalidEmail:
        raise ValueError(f"{entry!r} is not an email address") from None


def allow_list(*, emails: Iterable[str] = (), domains: Iterable[str] = ()) -> AllowList:
    """The allow-list of canonical entries (see `domain_entry` and `email_entry`)."""
    entries = frozenset(domains)
    return AllowList(
        emails=frozenset(emails),
        domains=frozenset(entry for entry in entries if not entry.startswith("*.")),
        suffixes=tuple(sorted(entry[1:] for entry in entries if entry.startswith("*."))),
    )


class Policy:
    """Whether an email may sign in, or keep a session, through a provider."""

    def __init__(self, *, everyone: AllowList, per_provider: Mapping[str, AllowList]) -> None:
        self._everyone = everyone
        self._per_provider = {name: narrow for name, narrow in per_provider.items() if narrow}
        # Read on every session check: without lists, nothing more is asked.
        self.restricts = bool(self._everyone or self._per_provider)

    def keeps(self, user: "Signed", provider: str | None) -> bool:
        """Whether a session of `user`, started through `provider`, may go on."""
        return not self.restricts or self.admits(
            user.email, verified=user.email_verified, provider=provider
        )

    def admits(self, email: str, *, verified: bool, provider: str | None) -> bool:
        """Both lists empty: everyone. Else a verified email, listed or of a listed domain,
        and of the provider's own domains when it has some (listed emails included)."""
        narrow = self._per_provider.get(provider) if provider else None
        if not self._everyone and narrow is None:
            return True
        if not verified:
            return False
        if self._everyone and not self._everyone.matches(email):
            return False
        return narrow is None or narrow.matches_domain(email.rpartition("@")[2])
