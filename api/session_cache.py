"""A per-process cache of live sessions, so that checking one costs no database round trip.

An entry lives `ttl` seconds. Logout, logout-everywhere and deleting a user evict entries at once
in the process that handles them; other processes notice when their entry expires. So `ttl` is
the bound on how long a revoked session can still be used on another worker.
"""

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from api.models import User


@dataclass(frozen=True, slots=True)
class _Entry:
    user: User
    fresh_until: float


class SessionCache:
    """Session id → user, least recently used first out, each entry good for `ttl` seconds."""

    def __init__(
        self, *, ttl: float, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def get(self, session_id: str) -> User | None:
        entry = self._entries.get(session_id)
        if entry is None:
            return None
        if self._clock() >= entry.fresh_until:
            del self._entries[session_id]
            return None
        self._entries.move_to_end(session_id)
        return entry.user

    def put(self, session_id: str, user: User) -> None:
        if self._ttl <= 0:
            return
        self._entries[session_id] = _Entry(user, self._clock() + self._ttl)
        self._entries.move_to_end(session_id)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def forget(self, session_id: str) -> None:
        self._entries.pop(session_id, None)

    def forget_user(self, email: str) -> None:
        stale = [sid for sid, entry in self._entries.items() if entry.user.email == email]
        for session_id in stale:
            del self._entries[session_id]
