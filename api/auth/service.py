"""AuthService: the one path for signing in, checking a session and signing out."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from api.auth.accounts import Accounts, claim_of
from api.auth.attempts import Attempts
from api.auth.events import LOGOUT, LOGOUT_EVERYWHERE, REPLACED, Actor, current_request_id
from api.auth.flows import FLOW_LIFETIME, Flow, FlowRefused
from api.auth.one_time import OneTimeProofs
from api.auth.policy import NotAllowed, Policy
from api.auth.providers.base import AssertionRejected, Identity, VerifierUnavailable
from api.auth.rate_limit import SignInLimits
from api.auth.session_cache import token_digest
from api.auth.sessions import Sessions
from api.auth.sign_in_failures import FAILED
from api.auth.tokens import SessionClaims, check_times, issue_token, read_token, token_lifetime
from api.auth.transports import Transport
from api.clock import Clock
from api.config import Settings
from api.observability.metrics import Metrics
from api.store.sign_in_writer import IdentityClaim, Login
from api.store.tables import User, UserPublic


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session and its token, to be handed over by the transport."""

    user: UserPublic
    token: str
    max_age: int


@dataclass(frozen=True, slots=True)
class Refreshed:
    """A fresh token for a session past its refresh point or signed with an old key."""

    token: str
    max_age: int


@dataclass(frozen=True, slots=True)
class Authentication:
    """Who is signed in (and their groups: any source, each once, sorted), with which session,
    and through which transport."""

    user: User
    user_json: bytes
    transport: Transport
    claims: SessionClaims
    refreshed: Refreshed | None
    # The provider the session was started with, if known.
    provider: str | None = None
    groups: tuple[str, ...] = ()


class AuthService:
    def __init__(
        self,
        *,
        settings: Settings,
        clock: Clock,
        sessions: Sessions,
        limits: SignInLimits,
        one_time: OneTimeProofs,
        metrics: Metrics,
        accounts: Accounts,
        policy: Policy,
        attempts: Attempts,
    ) -> None:
        self._attempts = attempts
        self._accounts = accounts
        self._policy = policy
        self._settings = settings
        self._clock = clock
        self._sessions = sessions
        self._limits = limits
        self._one_time = one_time
        self._metrics = metrics

    async def sign_in(
        self,
        *,
        provider: str,
        verify: Callable[[], Awaitable[Identity]],
        transport: Transport,
        address: str,
        user_agent: str | None = None,
        replacing: str | None = None,
    ) -> SignedIn:
        """Within the rate limits, `verify` a proof (a posted assertion, an authorization code)
        from `provider`, and start a session for the user its identity signs in as. The session
        of the token `replacing` (the cookie the browser still holds) ends once it has."""
        identity: Identity | None = None
        past_address_limit = False
        try:
            await self._limits.hit_address(address)
            past_address_limit = True
            identity = await self._within_deadline(verify)
            await self._limits.hit_identity(identity.email)
            if not self._policy.admits(
                identity.email, verified=identity.email_verified, provider=provider
            ):
                raise NotAllowed(provider)
            await self._spend(identity)
            signed_in = await self._start(
                identity.email,
                transport,
                claim=claim_of(provider, identity),
                user_agent=user_agent,
                address=address,
            )
        except FAILED as error:
            await self._attempts.failed(
                transport,
                error,
                provider=provider,
                address=address,
                email=identity.email if identity else None,
                recorded=past_address_limit,
            )
            raise
        self._attempts.succeeded(transport, email=signed_in.user.email)
        if replacing:
            await self._end_replaced(transport, replacing, signed_in.user.email)
        return signed_in

    async def _end_replaced(self, transport: Transport, token: str, email: str) -> None:
        # The new cookie overwrites the old one in the browser: a session nobody holds any more
        # must not stay usable by whoever copied its cookie.
        now = self._clock()
        claims = read_token(settings=self._settings, kind=transport.kind, token=token, now=now)
        if claims is not None:
            await self._sessions.revoke_session(
                claims.session_id, at=now, actor=Actor.user(email), reason=REPLACED
            )

    async def link(
        self, *, email: str, provider: str, verify: Callable[[], Awaitable[Identity]]
    ) -> None:
        """Add the provider account a proof is for to the signed-in user `email`."""
        identity = await self._within_deadline(verify)
        await self._accounts.link(email, claim_of(provider, identity), now=self._clock())

    async def _within_deadline(self, verify: Callable[[], Awaitable[Identity]]) -> Identity:
        """`verify()`, given SIGNET_VERIFIER_TIMEOUT in all: discovery, keys and answer together
        (each read's own timeout would let a provider that drips a byte at a time hold the
        login for as long as it likes)."""
        asked = time.perf_counter()
        try:
            async with asyncio.timeout(self._settings.verifier_timeout):
                return await verify()
        except TimeoutError:
            raise VerifierUnavailable("no answer within the deadline") from None
        finally:
            self._metrics.verifier_seconds(time.perf_counter() - asked)

    async def _spend(self, identity: Identity) -> None:
        # Only after every check: a proof refused for a passing reason is not used up.
        proof, until = identity.one_time_proof, identity.proof_expires_at
        if proof is None or until is None:
            return
        if not await self._one_time.first_use(f"proof:{proof}", until=until):
            raise AssertionRejected("replayed: this proof was used before")

    async def end_flow(self, flow: Flow) -> None:
        """Answer each redirect flow's callback once, whichever worker or host gets it."""
        until = self._clock() + FLOW_LIFETIME
        if not await self._one_time.first_use(f"flow:{flow.state}", until=until):
            raise FlowRefused("this sign-in was completed already")

    async def start_session(self, *, email: str, transport: Transport) -> SignedIn:
        """Create or stamp the user and start a session for them, with no proof asked."""
        return await self._start(email, transport, claim=None, user_agent=None, address=None)

    async def _start(
        self,
        email: str,
        transport: Transport,
        *,
        claim: IdentityClaim | None,
        user_agent: str | None,
        address: str | None,
    ) -> SignedIn:
        now = self._clock()
        lifetime = self._settings.session_absolute_timeout
        user, started, _ = await self._sessions.start(
            Login(
                email=email,
                now=now,
                lifetime=lifetime,
                claim=claim,
                kind=str(transport.kind),
                user_agent=user_agent,
                address=address,
                request_id=current_request_id(),
            )
        )
        token = issue_token(
            settings=self._settings,
            kind=transport.kind,
            session_id=started.id,
            started_at=now,
            now=now,
        )
        max_age = token_lifetime(settings=self._settings, started_at=now, now=now)
        return SignedIn(user=user, token=token, max_age=max_age)

    async def check(
        self, *, transport: Transport, token: str | None, admitted_only: bool = True
    ) -> Authentication | None:
        """The live session `token` proves, or None; `NotAllowed` if the policy no longer lets
        its user in (nothing is deleted: widening the policy again restores it), unless
        `admitted_only` is false (signing out).

        The hot path: a token seen within the cache TTL costs one SHA-256 and a dictionary lookup;
        anything else one HMAC and one primary-key query.
        """
        if not token:
            return None
        settings, now = self._settings, self._clock()
        digest = token_digest(transport.kind, token)
        checked = self._sessions.cached(digest)
        if checked is None:
            checked = await self._sessions.find(
                digest,
                read=lambda: read_token(
                    settings=settings, kind=transport.kind, token=token, now=now
                ),
                now=now,
            )
        if checked is None:
            return None
        # The timeouts are checked on every request, cached or not.
        claims = check_times(
            settings,
            session_id=checked.session_id,
            started_at=checked.started_at,
            issued_at=checked.issued_at,
            now=now,
            signed_with_fallback=checked.signed_with_fallback,
        )
        if claims is None:
            return None
        if admitted_only and not self._policy.keeps(checked.user, checked.provider):
            raise NotAllowed(checked.provider)
        self._sessions.seen(claims.session_id, now)
        refreshed = None
        if transport.slides and (claims.needs_refresh or transport.reissues):
            refreshed = Refreshed(
                token=issue_token(
                    settings=settings,
                    kind=transport.kind,
                    session_id=claims.session_id,
                    started_at=claims.started_at,
                    now=now,
                ),
                max_age=token_lifetime(settings=settings, started_at=claims.started_at, now=now),
            )
        return Authentication(
            user=checked.user,
            user_json=checked.user_json,
            transport=transport,
            claims=claims,
            refreshed=refreshed,
            provider=checked.provider,
            groups=checked.groups,
        )

    def ends_at(self, claims: SessionClaims) -> datetime:
        """When a token stops working: the earlier of its idle and absolute ends."""
        idle = claims.issued_at + timedelta(seconds=self._settings.session_idle_timeout)
        cap = claims.started_at + timedelta(seconds=self._settings.session_absolute_timeout)
        return min(idle, cap)

    async def sign_out(self, authentication: Authentication) -> None:
        """End this session, wherever its tokens are."""
        await self._sessions.revoke_session(
            authentication.claims.session_id,
            at=self._clock(),
            actor=Actor.user(authentication.user.email),
            reason=LOGOUT,
        )

    async def sign_out_everywhere(self, email: str) -> int:
        """End every session of the user; returns how many there were."""
        return await self._sessions.revoke_user(
            email, at=self._clock(), actor=Actor.user(email), reason=LOGOUT_EVERYWHERE
        )
