"""Revocations across hosts on PostgreSQL: LISTEN/NOTIFY.

The revoking transaction sends the ended session ids with `pg_notify`, so the news leaves with
the commit and never without it. Each process keeps one connection listening, outside the pool,
and reconnects with backoff when it drops. While it is down the process cannot hear revocations,
so its session cache is not trusted (every check asks the database: fail safe, not open); on
reconnecting it empties the cache, since news may have been missed meanwhile.
"""

import asyncio
import logging
from collections.abc import Callable, Collection, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from api.observability.metrics import Metrics

logger = logging.getLogger("signet.revocations")

CHANNEL = "signet_revocations"
# NOTIFY payloads are limited to 8000 bytes; ids are joined with commas up to this many.
_PAYLOAD_BYTES = 7000
_FIRST_RETRY, _LAST_RETRY = 0.1, 5.0
# How often a quiet listening connection is asked whether it is still there.
HEARTBEAT_SECONDS = 5.0


class PostgresRevocations:
    def __init__(
        self,
        url: URL,
        *,
        forget: Callable[[Collection[str]], None],
        forget_all: Callable[[], None],
        metrics: Metrics,
        connect_timeout: float = 5.0,
    ) -> None:
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._forget = forget
        self._forget_all = forget_all
        self._metrics = metrics
        self._connect_timeout = connect_timeout
        self._listening = False
        self._task: asyncio.Task[None] | None = None

    async def announce(self, db: AsyncSession, session_ids: Sequence[str]) -> None:
        for payload in _payloads(session_ids):
            await db.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": CHANNEL, "payload": payload},
            )

    def cache_trusted(self) -> bool:
        return self._listening

    async def start(self) -> None:
        """Listen in the background; returns once the first attempt to connect has ended."""
        if self._task is not None:
            return
        first_attempt = asyncio.Event()
        self._task = asyncio.create_task(
            self._listen_forever(first_attempt), name="signet revocations"
        )
        await first_attempt.wait()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _listen_forever(self, first_attempt: asyncio.Event) -> None:
        import asyncpg  # only PostgreSQL deployments have it

        retry_in = _FIRST_RETRY
        while True:
            try:
                connection = await asyncpg.connect(self._dsn, timeout=self._connect_timeout)
                try:
                    await self._listen(connection, first_attempt)
                finally:
                    connection.terminate()
                retry_in = _FIRST_RETRY
            except asyncio.CancelledError:
                raise
            except Exception as error:  # whatever broke the connection, listen again
                if self._listening or not first_attempt.is_set():
                    logger.warning(
                        "not hearing revocations (%s): the session cache is off until the "
                        "listener reconnects",
                        type(error).__name__,
                    )
            finally:
                if self._listening:
                    self._listening = False
                    self._metrics.revocation_listener_lost()
            first_attempt.set()
            await asyncio.sleep(retry_in)
            retry_in = min(2 * retry_in, _LAST_RETRY)

    async def _listen(self, connection: Any, first_attempt: asyncio.Event) -> None:
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        await connection.add_listener(CHANNEL, self._heard)
        self._forget_all()  # what was announced while nobody listened
        self._listening = True
        logger.info("hearing revocations")
        first_attempt.set()
        while not lost.is_set():
            try:
                await asyncio.wait_for(lost.wait(), HEARTBEAT_SECONDS)
            except TimeoutError:
                await connection.execute("SELECT 1", timeout=self._connect_timeout)
        raise ConnectionError("the listening connection closed")

    def _heard(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        self._forget(set(payload.split(",")))


def _payloads(session_ids: Sequence[str]) -> list[str]:
    payloads: list[str] = []
    current: list[str] = []
    size = 0
    for session_id in session_ids:
        if current and size + len(session_id) + 1 > _PAYLOAD_BYTES:
            payloads.append(",".join(current))
            current, size = [], 0
        current.append(session_id)
        size += len(session_id) + 1
    if current:
        payloads.append(",".join(current))
    return payloads
