"""The session cache: checked tokens kept per process, so that the session check is nearly free.

Keyed by a digest of the token: a hit skips the signature check and the database. An entry lives
`ttl` seconds, and at most `max_entries` (SIGNET_SESSION_CACHE_SIZE) are kept. A revocation
evicts entries at once in the process that makes it, and other processes as soon as they hear
of it (see revocations.py); `ttl` bounds how long a revoked session stays usable on another
worker if that news is lost (0 turns the cache off).
"""

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from api.clock import Timer, monotonic
from api.store.tables import User


def token_digest(kind: str, token: str) -> bytes:
    return hashlib.sha256(f"{kind}:{token}".encode()).digest()


@dataclass(frozen=True, slots=True)
class CheckedSession:
    """What checking a token found: its session, when it started and was issued, the user and
    their groups (`user_json` has them too). A change of the groups evicts it (change_user)."""

    session_id: str
    started_at: datetime
    issued_at: datetime
    signed_with_fallback: bool
    user: User
    user_json: bytes
    # The provider the session was started with, if known.
    provider: str | None = None
    # The user's groups, whatever their source, each once, sorted.
    groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Entry:
    session: CheckedSession
    fresh_until: float


class SessionCache:
    """Token digest → checked session, least recently used out first, each good for `ttl` s."""

    def __init__(self, *, ttl: float, max_entries: int = 4096, timer: Timer = monotonic) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._timer = timer
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        # Counts evictions: a check that began before one must not put back what it removed.
        self._evictions = 0
        self._checking: dict[bytes, asyncio.Future[CheckedSession | None]] = {}

    def get(self, digest: bytes) -> CheckedSession | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if self._timer() >= entry.fresh_until:
            del self._entries[digest]
            return None
        self._entries.move_to_end(digest)
        return entry.session

    async def get_or_check(
        self, digest: bytes, check: Callable[[], Awaitable[CheckedSession | None]]
    ) -> CheckedSession | None:
        """The cached session, or the result of `check`, which concurrent misses share.

        When an entry expires under load, every request holding that token misses at once;
        without sharing, each would take a database connection for the same answer.
        """
        session = self.get(digest)
        if session is not None:
            return session
        checking = self._checking.get(digest)
        if checking is None:
            checking = asyncio.ensure_future(self._check_and_put(digest, check, self._evictions))
            self._checking[digest] = checking
            checking.add_done_callback(lambda _: self._checking.pop(digest, None))
        # Shielded: one request giving up must not cancel the check the others wait for.
        return await asyncio.shield(checking)

    async def _check_and_put(
        self,
        digest: bytes,
        check: Callable[[], Awaitable[CheckedSession | None]],
        evictions: int,
    ) -> CheckedSession | None:
        session = await check()
        if session is not None and evictions == self._evictions:
            self.put(digest, session)
        return session

    def put(self, digest: bytes, session: CheckedSession) -> None:
        if self._ttl <= 0:
            return
        now = self._timer()
        self._entries[digest] = _Entry(session, now + self._ttl)
        self._entries.move_to_end(digest)
        # Least recently used first: drop expired entries from the front, and any over the bound.
        while self._entries:
            oldest = next(iter(self._entries.values()))
            if oldest.fresh_until > now and len(self._entries) <= self._max_entries:
                break
            self._entries.popitem(last=False)

    def forget_session(self, session_id: str) -> None:
        self._forget(lambda session: session.session_id == session_id)

    def forget_sessions(self, session_ids: Collection[str]) -> None:
        self._forget(lambda session: session.session_id in session_ids)

    def clear(self) -> None:
        """Forget every entry (news of revocations may have been missed)."""
        self._forget(lambda _: True)

    def forget_user(self, email: str) -> None:
        self._forget(lambda session: session.user.email == email)

    def _forget(self, matches: Callable[[CheckedSession], bool]) -> None:
        self._evictions += 1
        # A linear scan: revocations are rare next to checks, and the cache is bounded.
        stale = [digest for digest, entry in self._entries.items() if matches(entry.session)]
        for digest in stale:
            del self._entries[digest]
