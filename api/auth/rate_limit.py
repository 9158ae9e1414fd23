"""Rate limits on signing in: per client address before the provider is asked, so that Signet
cannot be used to flood it, and per email once it is known, so that one account cannot be
signed in to in a loop.

In-process token buckets: each worker process counts on its own, so with N workers behind a load
balancer a client gets up to N times the limit. That bounds abuse without shared state.
"""

from collections import OrderedDict
from dataclasses import dataclass

from api.clock import Timer, monotonic


class TooManyRequests(Exception):
    """Over a limit; `retry_after` seconds until the next attempt would be allowed."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after:.1f} s")
        self.retry_after = retry_after


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """At most `per_minute` events per key, in bursts of up to `per_minute`; 0 means no limit."""

    def __init__(
        self, *, per_minute: int, max_keys: int = 100_000, timer: Timer = monotonic
    ) -> None:
        self._capacity = float(per_minute)
        self._refill_per_second = per_minute / 60
        self._max_keys = max_keys
        self._timer = timer
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def retry_after(self, key: str) -> float | None:
        """Take one token for `key`: None if allowed, else the seconds until one is available."""
        if self._capacity <= 0:
            return None
        now = self._timer()
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

    def hit(self, key: str) -> None:
        """Count one event for `key`, or raise `TooManyRequests`."""
        retry_after = self.retry_after(key)
        if retry_after is not None:
            raise TooManyRequests(retry_after)


class SignInLimits:
    """The two limits a sign-in passes."""

    def __init__(self, *, per_address: int, per_identity: int, timer: Timer = monotonic) -> None:
        self._addresses = RateLimiter(per_minute=per_address, timer=timer)
        self._identities = RateLimiter(per_minute=per_identity, timer=timer)

    def hit_address(self, address: str) -> None:
        self._addresses.hit(address)

    def hit_identity(self, email: str) -> None:
        self._identities.hit(email)
