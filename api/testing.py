"""Stand-ins for test suites built on Signet: a verifier and a clock you control."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from api.verifiers.base import (
    AssertionRejected,
    VerifiedIdentity,
    VerifierUnavailable,
    normalise_email,
)


@dataclass
class FakeVerifier:
    """Vouches for the assertions it was told about; records every assertion it sees.

    Override the verifier with it: `app.dependency_overrides[get_verifier] = lambda: fake`.
    """

    identities: dict[str, str] = field(default_factory=dict)
    unavailable: bool = False
    seen: list[str] = field(default_factory=list)

    def accept(self, assertion: str, *, email: str) -> str:
        """Make `assertion` prove `email`; returns the assertion for convenience."""
        self.identities[assertion] = email
        return assertion

    async def verify(self, assertion: str) -> VerifiedIdentity:
        self.seen.append(assertion)
        if self.unavailable:
            raise VerifierUnavailable("fake verifier set to unavailable")
        email = self.identities.get(assertion)
        if email is None:
            raise AssertionRejected("fake verifier does not know this assertion")
        return VerifiedIdentity(email=normalise_email(email), issuer="fake")


@dataclass
class FakeClock:
    """A clock that moves only when told to. Install it with `app.state.clock = FakeClock()`."""

    now: datetime = field(default_factory=lambda: datetime(2026, 1, 1, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
