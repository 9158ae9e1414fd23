"""The sign-in writer: each user and their new session written together, many logins a commit.

A login must be on disk before its cookie is sent, and a commit (an fsync, on SQLite) costs far
more than the rows in it. So logins queue for one writer task, which commits everything that
queued while its previous commit ran; each login gets its answer when its batch is committed.
Under no load a batch is one login and the wait is one commit; under load the commit is shared.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth.events import SESSION_CREATED, USER_CREATED, Actor, NewEvent
from api.store.events import append_events
from api.store.groups import groups_of_many
from api.store.identities import stamp_identities
from api.store.sessions import NewSession, StartedSession, insert_sessions
from api.store.tables import UserPublic
from api.store.users import upsert_users

logger = logging.getLogger("signet.signin")

MAX_BATCH = 256
# How long the writer waits for more logins once one arrives. Under load this is what makes
# batches (and so shares commits); next to a verifier round trip, 5 ms is little to add.
LINGER_SECONDS = 0.005


@dataclass(frozen=True, slots=True)
class Account:
    """Whom a login signs in as: the user's email, the identity used (stamped in the same
    transaction), and whether the login took the user over from unverified identities."""

    email: str
    identity_id: str | None = None
    taken_over: bool = False
    # Whether the provider's groups claim changed the user's groups.
    groups_changed: bool = False
    # What resolving the account changed (a user created, an identity linked…), as events.
    events: tuple[NewEvent, ...] = ()


WrittenSignIn = tuple[UserPublic, StartedSession, Account]


@dataclass(frozen=True, slots=True)
class IdentityClaim:
    """Who a provider says is signing in: its account (provider, subject), the email, and
    whether it vouches that the email is theirs."""

    provider: str
    subject: str
    email: str
    verified: bool
    # The user's groups at this provider (its groups claim); None: leave them as they are.
    groups: tuple[str, ...] | None = None
    # A passkey's signature counter as this sign-in left it (the subject is its credential id).
    sign_count: int | None = None


@dataclass(frozen=True, slots=True)
class Login:
    email: str
    now: datetime
    lifetime: int
    # Resolved to an account in the batch's own transaction; None: sign in as `email`.
    claim: IdentityClaim | None = None
    # How the session's token travels ("cookie" or "bearer"), and the browser that asked.
    kind: str = "cookie"
    user_agent: str | None = None
    address: str | None = None
    # The X-Request-ID of the request signing in (the writer's own task has none).
    request_id: str | None = None


def sign_in_event(login: Login, event_type: str, *, email: str, **data: Any) -> NewEvent:
    """An event a login causes, by the user signing in, in their request."""
    return NewEvent(
        event_type,
        at=login.now,
        actor=Actor.user(email),
        email=email,
        data=data,
        request_id=login.request_id,
    )


# Resolves the claims of a batch's logins (in order) inside its transaction: an account each,
# or the error that refuses that login alone (raised before any write of that login).
ResolveAccounts = Callable[[AsyncSession, list[Login]], Awaitable[list[Account | Exception]]]


async def write_sign_ins(
    *, db: AsyncSession, logins: Sequence[Login], resolve: ResolveAccounts | None = None
) -> list[WrittenSignIn | Exception]:
    """Resolve each login's account, create or stamp each user and start a new session per login,
    in one committed transaction; a login the resolver refused gets that error instead."""
    claimed = [login for login in logins if login.claim is not None]
    resolved = iter(await resolve(db, claimed) if claimed and resolve else [])
    accounts = [Account(login.email) if login.claim is None else next(resolved) for login in logins]
    accepted = [
        (login, account)
        for login, account in zip(logins, accounts, strict=True)
        if isinstance(account, Account)
    ]
    if not accepted:  # every login refused: nothing to write
        refused: list[WrittenSignIn | Exception] = [
            account for account in accounts if isinstance(account, Exception)
        ]
        return refused
    latest: dict[str, datetime] = {}
    for login, account in accepted:  # one row per email: an upsert may not touch a row twice
        latest[account.email] = max(login.now, latest.get(account.email, login.now))
    users = await upsert_users(db=db, logins=latest)
    # The answer names the user's groups, as /auth/me does: claims and invitations included.
    for email, names in (await groups_of_many(db=db, emails=users.keys())).items():
        users[email].groups = names
    starts = [
        NewSession(
            email=account.email,
            now=login.now,
            lifetime=login.lifetime,
            provider=login.claim.provider if login.claim else None,
            kind=login.kind,
            user_agent=login.user_agent,
            address=login.address,
        )
        for login, account in accepted
    ]
    started = await insert_sessions(db=db, starts=starts)
    used: list[dict[str, object]] = [
        {"identity": account.identity_id, "now": login.now}
        for login, account in accepted
        if account.identity_id
    ]
    await stamp_identities(db=db, used=used)
    await append_events(db=db, events=_events(accepted, started, users))
    await db.commit()
    answers = iter(started)
    return [
        (users[account.email], next(answers), account) if isinstance(account, Account) else account
        for account in accounts
    ]


def _events(
    accepted: list[tuple[Login, Account]],
    sessions: list[StartedSession],
    users: dict[str, UserPublic],
) -> list[NewEvent]:
    """What the batch changed: each account's events, a session.created per login, and a
    user.created for a user a login with no identity claim created."""
    events: list[NewEvent] = []
    for (login, account), session in zip(accepted, sessions, strict=True):
        if login.claim is None and users[account.email].created_at == login.now:
            events.append(sign_in_event(login, USER_CREATED, email=account.email, provider=None))
        events += account.events
        created = sign_in_event(
            login,
            SESSION_CREATED,
            email=account.email,
            provider=session.provider,
            session_id=session.id,
            address=session.address,
            user_agent=session.user_agent,
        )
        events.append(created)
    return events


@dataclass
class _Waiting:
    login: Login
    answer: asyncio.Future[WrittenSignIn] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class SignInWriter:
    """Queues sign-ins and commits them in batches (see the module docstring)."""

    def __init__(
        self,
        db_sessions: async_sessionmaker[AsyncSession],
        *,
        resolve: ResolveAccounts | None = None,
    ) -> None:
        self._db_sessions = db_sessions
        self._resolve = resolve
        self._queue: list[_Waiting] = []
        self._queued = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None

    async def sign_in(self, login: Login) -> WrittenSignIn:
        """Write `login` with whatever else is queued; its user, session and account."""
        waiting = _Waiting(login)
        self._queue.append(waiting)
        self._queued.set()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_forever(), name="signet sign-ins")
        return await waiting.answer

    async def aclose(self) -> None:
        """Stop writing, and wait until the writer has; logins still queued fail."""
        if self._writer is not None:
            self._writer.cancel()
            with suppress(asyncio.CancelledError):
                await self._writer
        _fail(self._queue, RuntimeError("signet is shutting down"))
        self._queue.clear()

    async def _write_forever(self) -> None:
        while True:
            await self._queued.wait()
            await asyncio.sleep(LINGER_SECONDS)
            self._queued.clear()
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                await self._write(batch)

    async def _write(self, batch: list[_Waiting]) -> None:
        try:
            results = await self._write_once_more_on_conflict(batch)
        except Exception as error:
            logger.exception("writing %d sign-ins failed", len(batch))
            _fail(batch, error)
            return
        except asyncio.CancelledError:
            _fail(batch, RuntimeError("signet is shutting down"))
            raise
        for waiting, result in zip(batch, results, strict=True):
            if waiting.answer.done():  # its request may have been cancelled meanwhile
                continue
            if isinstance(result, Exception):
                waiting.answer.set_exception(result)
            else:
                waiting.answer.set_result(result)

    async def _write_once_more_on_conflict(
        self, batch: list[_Waiting]
    ) -> list[WrittenSignIn | Exception]:
        logins = [waiting.login for waiting in batch]
        try:
            async with self._db_sessions() as db:
                return await write_sign_ins(db=db, logins=logins, resolve=self._resolve)
        except IntegrityError:
            # Another process linked the same identity or made the same user first; the
            # accounts now resolve to what it wrote.
            async with self._db_sessions() as db:
                return await write_sign_ins(db=db, logins=logins, resolve=self._resolve)


def _fail(batch: list[_Waiting], error: BaseException) -> None:
    for waiting in batch:
        if not waiting.answer.done():
            waiting.answer.set_exception(error)
