"""Abuse resistance: rate limits per address and per identity, trusted proxies, body size."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.auth.rate_limit import limited_as
from api.config import Settings
from api.services import services_of
from api.store.tables import RateLimitHit
from api.testing import FakeClock, FakeProvider
from tests.apps import APP_ORIGIN, two_workers
from tests.databases import count_rows


@pytest.mark.parametrize(
    ("address", "limited"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("unknown", "unknown"),
    ],
)
def test_an_ipv6_client_counts_as_its_network(address: str, limited: str) -> None:
    assert limited_as(address, ipv6_prefix=64) == limited


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "rate_limit_per_address": 3,
            "rate_limit_per_identity": 2,
            "trusted_proxies": ("10.0.0.0/8",),
        }
    )


@pytest.fixture
def verifier(verifier: FakeProvider) -> FakeProvider:
    for name in ("edith", "francis", "grace", "heidi"):
        verifier.accept(name, email=f"{name}@example.com")
    return verifier


async def test_too_many_logins_from_one_address_are_429_before_the_verifier(
    client: httpx.AsyncClient, verifier: FakeProvider
) -> None:
    answers = [
        await client.post("/auth/login", json={"assertion": name})
        for name in ("edith", "francis", "grace", "heidi")
    ]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    limited = answers[-1]
    assert limited.headers["content-type"] == "application/problem+json"
    assert int(limited.headers["retry-after"]) >= 1
    assert verifier.seen == ["edith", "francis", "grace"]


async def test_a_window_of_60_s_resets_and_its_counts_are_purged(
    app: FastAPI, client: httpx.AsyncClient, clock: FakeClock, db_session: AsyncSession
) -> None:
    clock.advance(45)  # three quarters into a window
    answers = [
        await client.post("/auth/login", json={"assertion": name})
        for name in ("edith", "francis", "grace", "heidi")
    ]
    clock.advance(15)  # the next window

    again = await client.post("/auth/login", json={"assertion": "heidi"})
    counted = await count_rows(db_session, RateLimitHit)
    # Kept while the longest window (codes tried per email: an hour) could still be counting.
    await services_of(app).limits.purge_expired(now=clock() + timedelta(minutes=58))
    kept = await count_rows(db_session, RateLimitHit)
    await services_of(app).limits.purge_expired(now=clock() + timedelta(minutes=60))

    assert [answer.status_code for answer in answers[:3]] == [200, 200, 200]
    assert answers[3].status_code == 429
    assert answers[3].headers["retry-after"] == "15"
    assert again.status_code == 200
    assert kept == counted == 6  # both windows' addresses and emails
    assert await count_rows(db_session, RateLimitHit) == 0


@pytest.mark.settings(rate_limit_per_identity=0)
async def test_an_ipv6_client_has_one_budget_for_its_whole_64(app: FastAPI) -> None:
    same_network = [
        await _login_from(app, f"2001:db8:0:1::{n:x}", forwarded_for="") for n in (1, 2, 3, 4)
    ]
    next_network = await _login_from(app, "2001:db8:0:2::1", forwarded_for="")

    assert same_network == [200, 200, 200, 429]
    assert next_network == 200


@pytest.mark.usefixtures("engine")  # the tables
async def test_the_limits_are_shared_by_every_worker_of_the_database(
    settings: Settings, verifier: FakeProvider, clock: FakeClock
) -> None:
    async with two_workers(settings, provider=verifier, clock=clock) as (one, two):
        answers = [
            await worker.post("/auth/token", json={"assertion": name})
            for worker, name in ((one, "edith"), (two, "francis"), (one, "grace"), (two, "heidi"))
        ]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]


@pytest.mark.usefixtures("engine")  # the tables
async def test_concurrent_attempts_are_each_counted_once_in_shared_commits(
    settings: Settings, verifier: FakeProvider, clock: FakeClock, db_session: AsyncSession
) -> None:
    names = ["edith", "francis", "grace", "heidi"] * 4
    settings = settings.model_copy(update={"rate_limit_per_identity": 0})  # the address alone
    async with two_workers(settings, provider=verifier, clock=clock) as (one, two):
        answers = await asyncio.gather(
            *(
                (one, two)[n % 2].post("/auth/token", json={"assertion": name})
                for n, name in enumerate(names)
            )
        )

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] * 3 + [429] * (len(names) - 3)
    counted = (await db_session.execute(select(col(RateLimitHit.hits)))).scalars().all()
    assert counted == [len(names)]


async def test_too_many_logins_as_one_identity_are_429(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app, client=("198.51.100.1", 1234))
    answers = []
    async with httpx.AsyncClient(transport=transport, base_url=APP_ORIGIN) as client:
        for address in ("198.51.100.2", "198.51.100.3", "198.51.100.4"):
            transport.client = (address, 1234)  # a new address each time: only identity counts
            answers.append(await client.post("/auth/token", json={"assertion": "edith"}))

    assert [answer.status_code for answer in answers] == [200, 200, 429]


async def _login_from(app: FastAPI, peer: str, forwarded_for: str) -> int:
    transport = httpx.ASGITransport(app=app, client=(peer, 1234))
    forwarded = {"x-forwarded-for": forwarded_for} if forwarded_for else {}
    async with httpx.AsyncClient(transport=transport, base_url=APP_ORIGIN) as client:
        response = await client.post("/auth/login", json={"assertion": "edith"}, headers=forwarded)
    return response.status_code


@pytest.mark.settings(rate_limit_per_identity=0)
async def test_forwarded_addresses_count_only_from_trusted_proxies(app: FastAPI) -> None:
    # An untrusted peer cannot dodge its limit by claiming other addresses...
    untrusted = [await _login_from(app, "203.0.113.9", f"192.0.2.{n}") for n in range(4)]
    # ...while behind a trusted proxy each forwarded client has its own budget.
    proxied = [await _login_from(app, "10.0.0.5", f"192.0.2.{n}") for n in range(4)]

    assert untrusted == [200, 200, 200, 429]
    assert proxied == [200, 200, 200, 200]


async def test_a_body_over_the_limit_is_refused_before_it_is_read(
    client: httpx.AsyncClient, verifier: FakeProvider
) -> None:
    response = await client.post(
        "/auth/login",
        content=b'{"assertion": "' + b"a" * 20_000 + b'"}',
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert verifier.seen == []


async def test_a_streamed_body_over_the_limit_is_refused(
    client: httpx.AsyncClient, verifier: FakeProvider
) -> None:
    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the size shows as it comes
        yield b'{"assertion": "'
        for _ in range(10):
            yield b"a" * 4096
        yield b'"}'

    response = await client.post(
        "/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert verifier.seen == []
