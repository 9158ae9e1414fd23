"""For test suites built on Signet: a verifier and a clock you control, and a one-line login."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from api.auth.providers.base import (
    AssertionRejected,
    VerifiedIdentity,
    VerifierUnavailable,
    normalise_email,
)
from api.auth.tokens import TokenKind, issue_token
from api.config import Settings


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


async def log_in_as(client: httpx.AsyncClient, email: str, *, app: FastAPI) -> None:
    """Sign `client` in to `app` as `email`, in one line, without a verifier round trip.

    The user and a session are written as a real login writes them and the session cookie is set
    on the client, so later requests are signed in. The app needs its database: run its lifespan
    (`async with app.router.lifespan_context(app)`) or point it at a test database first.
    """
    settings: Settings = app.state.settings
    now: datetime = app.state.clock()
    _, started = await app.state.sign_in_writer.sign_in(
        email=normalise_email(email), now=now, lifetime=settings.session_absolute_timeout
    )
    token = issue_token(
        settings=settings, kind=TokenKind.COOKIE, session_id=started.id, started_at=now, now=now
    )
    client.cookies.set(settings.cookie_name, token)
