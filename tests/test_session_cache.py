"""The per-process session cache: bounded in time and size, forgets on logout, checks once."""

import asyncio
from datetime import UTC, datetime

import pytest

from api.auth.session_cache import CheckedSession, SessionCache, token_digest
from api.store.tables import User
from tests.clocks import Ticker

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def checked(session_id: str = "sid", email: str = "edith@example.com") -> CheckedSession:
    return CheckedSession(
        session_id=session_id,
        started_at=EPOCH,
        issued_at=EPOCH,
        signed_with_fallback=False,
        user=User(email=email),
        user_json=b"{}",
    )


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
def cache(ticker: Ticker) -> SessionCache:
    return SessionCache(ttl=2.0, max_entries=3, timer=ticker)


def test_an_entry_lives_for_the_ttl(cache: SessionCache, ticker: Ticker) -> None:
    digest = token_digest("cookie", "token")
    cache.put(digest, checked())

    ticker.now += 1.99
    assert cache.get(digest) is not None
    ticker.now += 0.01
    assert cache.get(digest) is None


def test_a_zero_ttl_caches_nothing(ticker: Ticker) -> None:
    cache = SessionCache(ttl=0, timer=ticker)
    cache.put(b"digest", checked())

    assert cache.get(b"digest") is None


def test_the_least_recently_used_entry_goes_first(cache: SessionCache) -> None:
    for name in (b"a", b"b", b"c"):
        cache.put(name, checked(name.decode()))
    cache.get(b"a")

    cache.put(b"d", checked("d"))

    assert cache.get(b"b") is None
    assert all(cache.get(name) is not None for name in (b"a", b"c", b"d"))


def test_forgetting_a_session_or_a_user(cache: SessionCache) -> None:
    cache.put(b"phone", checked("s1", "edith@example.com"))
    cache.put(b"laptop", checked("s2", "edith@example.com"))
    cache.put(b"other", checked("s3", "francis@example.com"))

    cache.forget_session("s1")
    assert cache.get(b"phone") is None
    assert cache.get(b"laptop") is not None

    cache.forget_user("edith@example.com")
    assert cache.get(b"laptop") is None
    assert cache.get(b"other") is not None


async def test_concurrent_misses_share_one_check(cache: SessionCache) -> None:
    calls = 0
    release = asyncio.Event()

    async def check() -> CheckedSession:
        nonlocal calls
        calls += 1
        await release.wait()
        return checked()

    waiting = [asyncio.ensure_future(cache.get_or_check(b"digest", check)) for _ in range(20)]
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(*waiting)

    assert calls == 1
    assert all(result is not None for result in results)
    assert cache.get(b"digest") is not None


async def test_one_waiter_giving_up_does_not_cancel_the_shared_check(cache: SessionCache) -> None:
    release = asyncio.Event()

    async def check() -> CheckedSession:
        await release.wait()
        return checked()

    impatient = asyncio.ensure_future(cache.get_or_check(b"digest", check))
    patient = asyncio.ensure_future(cache.get_or_check(b"digest", check))
    await asyncio.sleep(0)
    impatient.cancel()
    release.set()

    assert await patient is not None


async def test_a_check_in_flight_during_a_revocation_is_not_cached(cache: SessionCache) -> None:
    digest = token_digest("cookie", "token")
    database_answered = asyncio.Event()

    async def slow_check() -> CheckedSession:
        await database_answered.wait()  # the row was read before the revocation committed
        return checked()

    in_flight = asyncio.create_task(cache.get_or_check(digest, slow_check))
    await asyncio.sleep(0)  # let the check start
    cache.forget_session("sid")
    database_answered.set()

    assert await in_flight is not None  # the request that asked still gets its answer...
    assert cache.get(digest) is None  # ...but the revoked session is not kept for the next one
