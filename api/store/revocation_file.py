"""Revocations across the workers of one host on SQLite: a generation in a small file beside
the database, memory-mapped by every worker.

A revoking worker writes a new random generation once its transaction has committed; a worker
that finds the generation changed empties its session cache before answering from it. Reading
it costs an 8-byte read of shared memory per check. Emptying the whole cache is coarse, but
revocations are rare next to checks, and a SQLite deployment is one host.
"""

import mmap
import os
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

_SIZE = 8


class FileRevocations:
    def __init__(self, path: Path, *, forget_all: Callable[[], None]) -> None:
        self.path = path
        self._forget_all = forget_all
        self._map: mmap.mmap | None = None
        self._seen = b""

    async def announce(self, db: AsyncSession, session_ids: Sequence[str]) -> None:
        if session_ids:
            event.listen(db.sync_session, "after_commit", self._bump, once=True)

    def _bump(self, _session: object) -> None:
        # Random rather than counted: no read-modify-write for two workers to race on.
        self._mapped()[:_SIZE] = secrets.token_bytes(_SIZE)

    def cache_trusted(self) -> bool:
        generation = self._mapped()[:_SIZE]
        if generation != self._seen:
            self._seen = generation
            self._forget_all()
        return True

    def _mapped(self) -> mmap.mmap:
        if self._map is None:
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                if os.fstat(descriptor).st_size < _SIZE:
                    os.ftruncate(descriptor, _SIZE)
                self._map = mmap.mmap(descriptor, _SIZE)
            finally:
                os.close(descriptor)
            self._seen = self._map[:_SIZE]
        return self._map

    async def start(self) -> None:
        self._mapped()

    async def aclose(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None
