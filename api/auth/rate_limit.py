"""In-process rate limits: a token bucket per key, so that Signet cannot be used to hammer the
verifier, nor one account be signed in to in a loop.

Each worker process counts on its own: with N workers behind a load balancer a client gets up to N
times the limit. That bounds abuse without shared state; an exact global limit needs a shared
store (a Redis, or the load balancer's own limits).
"""

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """At most `per_minute` events per key, in bursts of up to `per_minute`; 0 means no limit."""

    def __init__(
        self,
        *,
        per_minute: int,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._capacity = float(per_minute)
        self._refill_per_second = per_minute / 60
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def retry_after(self, key: str) -> float | None:
        """Take one token for `key`: None if allowed, else the seconds until one is available."""
        if self._capacity <= 0:
            return None
        now = self._clock()
        bucket = self._buckets.pop(key, None) or _Bucket(self._capacity, now)
        bucket.tokens = min(
            self._capacity, bucket.tokens + (now - bucket.updated) * self._refill_per_second
        )
        bucket.updated = now
        self._buckets[key] = bucket  # most recently used last
        if len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return (1 - bucket.tokens) / self._refill_per_second
