"""When to try a delivery again: exponential backoff with jitter between the least and the most
wait, never sooner than a receiver's Retry-After asked."""

import random
from datetime import datetime
from email.utils import parsedate_to_datetime


def retry_delay(
    attempts: int,
    *,
    least: float,
    most: float,
    retry_after: float | None = None,
    rng: random.Random,
) -> float:
    """Seconds to wait after the `attempts`-th failed try: doubling from `least` up to `most`,
    each drawn from the upper half of its step (so workers retrying together spread out), and at
    least what Retry-After asked."""
    step = min(most, least * 2.0 ** min(attempts - 1, 64))
    delay = max(least, rng.uniform(step / 2, step))
    return max(delay, retry_after) if retry_after is not None else delay


def retry_after_seconds(value: str | None, *, now: datetime) -> float | None:
    """A Retry-After header as seconds from `now`: delta-seconds or an HTTP date; None if absent
    or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # not "²", which isdigit() also takes
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())
