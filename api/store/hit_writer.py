"""The hit writer: rate-limit attempts counted in the shared database, many attempts a commit.

Each attempt must be counted, and its count known, before the sign-in goes on, and a commit
(an fsync, on SQLite, behind the one write lock) costs far more than the upsert in it: counted
one transaction each, concurrent logins queued on that lock. So attempts queue for one writer
task, which counts everything that queued while its previous commit ran in one transaction: one
upsert per key, adding that key's attempts, and each attempt's count is its place among them.
Under no load a batch is one attempt and the wait is one commit; nothing lingers for company.
"""

import asyncio
import logging
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.store.rate_limits import count_hits

logger = logging.getLogger("signet.limits")


@dataclass
class _Waiting:
    key: str
    window_start: int
    count: asyncio.Future[int] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class HitWriter:
    """Counts attempts in batches (see the module docstring)."""

    def __init__(self, db_sessions: async_sessionmaker[AsyncSession]) -> None:
        self._db_sessions = db_sessions
        self._queue: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def hit(self, key: str, window_start: int) -> int:
        """Count one attempt for `key` in the window that began at `window_start`, committed;
        the attempts counted there so far, this one included."""
        waiting = _Waiting(key, window_start)
        self._queue.append(waiting)
        # The writer stops when the queue is empty, so nothing is left running at shutdown.
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="signet rate-limit hits")
        return await waiting.count

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                await self._write(batch)
            except asyncio.CancelledError:
                _fail(batch, RuntimeError("signet is shutting down"))
                raise
            except Exception as error:
                logger.exception("counting %d rate-limit hits failed", len(batch))
                _fail(batch, error)

    async def _write(self, batch: list[_Waiting]) -> None:
        attempts: dict[tuple[str, int], int] = {}
        for waiting in batch:
            slot = (waiting.key, waiting.window_start)
            attempts[slot] = attempts.get(slot, 0) + 1
        async with self._db_sessions() as db:
            totals = await count_hits(db=db, attempts=attempts)
            await db.commit()
        # The batch's attempts at one key are its last ones there, in the order they came.
        before = {slot: totals[slot] - added for slot, added in attempts.items()}
        for waiting in batch:
            slot = (waiting.key, waiting.window_start)
            before[slot] += 1
            if not waiting.count.done():  # its request may have been cancelled meanwhile
                waiting.count.set_result(before[slot])


def _fail(batch: list[_Waiting], error: BaseException) -> None:
    for waiting in batch:
        if not waiting.count.done():
            waiting.count.set_exception(error)
