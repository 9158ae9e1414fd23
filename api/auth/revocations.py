"""Revocations reach every process: the revoking one's session cache forgets at once, and every
other worker and host hears of it within about 100 ms, through the database they share:
PostgreSQL's LISTEN/NOTIFY across hosts, a shared file beside a SQLite database across the
workers of one host. SIGNET_SESSION_CACHE_TTL stays the backstop should the news be lost.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.session_cache import SessionCache
from api.observability.metrics import Metrics
from api.store.revocation_file import FileRevocations
from api.store.revocation_listener import PostgresRevocations


class Revocations(Protocol):
    async def announce(self, db: AsyncSession, session_ids: Sequence[str]) -> None:
        """Tell every other process that these sessions ended or changed (their caches drop
        them either way), once `db`'s transaction (the one that ends or changes them) commits."""
        ...

    def cache_trusted(self) -> bool:
        """Whether the session cache may answer now: every revocation announced so far has
        reached it. The hot path asks on every check."""
        ...

    async def start(self) -> None:
        """Begin hearing other processes' announcements (a running app does; the CLI need not)."""
        ...

    async def aclose(self) -> None: ...


class InProcessRevocations:
    """For a database no other process uses (SQLite in memory): there is nobody to tell."""

    async def announce(self, db: AsyncSession, session_ids: Sequence[str]) -> None:
        pass

    def cache_trusted(self) -> bool:
        return True

    async def start(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


def revocations_for(database_url: str, *, cache: SessionCache, metrics: Metrics) -> Revocations:
    """How the processes sharing the database at `database_url` hear of revocations."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return PostgresRevocations(
            url, forget=cache.forget_sessions, forget_all=cache.clear, metrics=metrics
        )
    if url.database in (None, "", ":memory:"):
        return InProcessRevocations()
    signal = Path(f"{Path(url.database).resolve()}-revocations")
    return FileRevocations(signal, forget_all=cache.clear)
