"""For test suites built on Signet: a provider and a clock you control, and a one-line login."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from api.auth.providers.base import AssertionRejected, Identity, VerifierUnavailable, email_claim
from api.services import services_of


@dataclass
class FakeProvider:
    """Vouches for the assertions it was told about; records every assertion it sees.

    Install it with `app.dependency_overrides[get_provider] = lambda: fake`, or hand it to
    `open_services(settings, provider=fake)`.
    """

    identities: dict[str, str] = field(default_factory=dict)
    unavailable: bool = False
    seen: list[str] = field(default_factory=list)
    name: str = "fake"
    unverified: set[str] = field(default_factory=set)
    subjects: dict[str, str] = field(default_factory=dict)
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def accept(
        self,
        assertion: str,
        *,
        email: str,
        verified: bool = True,
        subject: str | None = None,
        groups: tuple[str, ...] | None = None,
    ) -> str:
        """Make `assertion` prove `email` (as an unverified address, with `verified=False`; for
        the provider account `subject`, else the email's; with a groups claim listing `groups`,
        else none); returns the assertion."""
        self.identities[assertion] = email
        if not verified:
            self.unverified.add(assertion)
        if subject is not None:
            self.subjects[assertion] = subject
        if groups is not None:
            self.groups[assertion] = groups
        return assertion

    async def verify(self, assertion: str) -> Identity:
        self.seen.append(assertion)
        if self.unavailable:
            raise VerifierUnavailable("fake provider set to unavailable")
        email = self.identities.get(assertion)
        if email is None:
            raise AssertionRejected("fake provider does not know this assertion")
        return Identity(
            email=email_claim(email),
            issuer="fake",
            subject=self.subjects.get(assertion),
            email_verified=assertion not in self.unverified,
            groups=self.groups.get(assertion),
        )


@dataclass
class FakeClock:
    """A clock that moves only when told to: `open_services(settings, clock=FakeClock())`."""

    now: datetime = field(default_factory=lambda: datetime(2026, 1, 1, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def log_in_as(client: httpx.AsyncClient, email: str, *, app: FastAPI) -> None:
    """Sign `client` in to `app` as `email`, in one line, without a provider round trip.

    The user and a session are written as a real login writes them and the session cookie is set
    on the client, so later requests are signed in. The app must be running: inside
    `async with app.router.lifespan_context(app)`.
    """
    services = services_of(app)
    cookie = services.transports.cookie
    signed_in = await services.auth.start_session(email=email_claim(email), transport=cookie)
    client.cookies.set(cookie.name, signed_in.token)
