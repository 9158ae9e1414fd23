"""Time, injected: a wall clock for what is stored and signed, a timer for what only expires."""

import time
from collections.abc import Callable
from datetime import UTC, datetime

# The current time, timezone-aware; tests hand in `api.testing.FakeClock`.
Clock = Callable[[], datetime]
# Seconds from an arbitrary start that never jumps back: for caches and rate limits.
Timer = Callable[[], float]

monotonic: Timer = time.monotonic


def utcnow() -> datetime:
    return datetime.now(UTC)
