"""The sign-in writer: each user and their new session written together, many logins a commit.

A login must be on disk before its cookie is sent, and a commit (an fsync, on SQLite) costs far
more than the rows in it. So logins queue for one writer task, which commits everything that
queued while its previous commit ran; each login gets its answer when its batch is committed.
Under no load a batch is one login and the wait is one commit; under load the commit is shared.
"""

import asyncio
import logging
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.store.identities import stamp_identities
from api.store.sessions import StartedSession, insert_sessions
from api.store.tables import UserPublic
from api.store.users import upsert_users

logger = logging.getLogger("signet.signin")

MAX_BATCH = 256
# How long the writer waits for more logins once one arrives. Under load this is what makes
# batches (and so shares commits); next to a verifier round trip, 5 ms is little to add.
LINGER_SECONDS = 0.005
WrittenSignIn = tuple[UserPublic, StartedSession]


@dataclass(frozen=True, slots=True)
class Login:
    email: str
    now: datetime
    lifetime: int
    # The identity signed in with, stamped as used in the same transaction.
    identity_id: str | None = None


async def write_sign_ins(*, db: AsyncSession, logins: Sequence[Login]) -> list[WrittenSignIn]:
    """Create or stamp each user and start a new session per login, in one committed transaction."""
    latest: dict[str, datetime] = {}
    for login in logins:  # one row per email: an upsert may not touch a row twice
        latest[login.email] = max(login.now, latest.get(login.email, login.now))
    users = await upsert_users(db=db, logins=latest)
    starts = [(login.email, login.now, login.lifetime) for login in logins]
    started = await insert_sessions(db=db, starts=starts)
    used: list[dict[str, object]] = [
        {"identity": login.identity_id, "now": login.now} for login in logins if login.identity_id
    ]
    await stamp_identities(db=db, used=used)
    await db.commit()
    return [(users[login.email], started) for login, started in zip(logins, started, strict=True)]


@dataclass
class _Waiting:
    login: Login
    answer: asyncio.Future[WrittenSignIn] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class SignInWriter:
    """Queues sign-ins and commits them in batches (see the module docstring)."""

    def __init__(self, db_sessions: async_sessionmaker[AsyncSession]) -> None:
        self._db_sessions = db_sessions
        self._queue: list[_Waiting] = []
        self._queued = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None

    async def sign_in(
        self, *, email: str, now: datetime, lifetime: int, identity_id: str | None = None
    ) -> WrittenSignIn:
        waiting = _Waiting(Login(email=email, now=now, lifetime=lifetime, identity_id=identity_id))
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
            async with self._db_sessions() as db:
                results = await write_sign_ins(db=db, logins=[waiting.login for waiting in batch])
        except Exception as error:
            logger.exception("writing %d sign-ins failed", len(batch))
            _fail(batch, error)
            return
        except asyncio.CancelledError:
            _fail(batch, RuntimeError("signet is shutting down"))
            raise
        for waiting, result in zip(batch, results, strict=True):
            if not waiting.answer.done():  # its request may have been cancelled meanwhile
                waiting.answer.set_result(result)


def _fail(batch: list[_Waiting], error: BaseException) -> None:
    for waiting in batch:
        if not waiting.answer.done():
            waiting.answer.set_exception(error)
