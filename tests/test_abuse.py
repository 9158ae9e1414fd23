"""Abuse resistance: rate limits per address and per identity, trusted proxies, body size."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from api.auth.rate_limit import RateLimiter
from api.config import Settings
from api.testing import FakeProvider
from tests.apps import APP_ORIGIN
from tests.clocks import Ticker


def test_a_bucket_allows_bursts_up_to_the_limit_then_refills() -> None:
    ticker = Ticker(now=0.0)
    limiter = RateLimiter(per_minute=3, timer=ticker)

    assert [limiter.retry_after("k") for _ in range(3)] == [None, None, None]
    assert limiter.retry_after("k") == pytest.approx(20.0)
    assert limiter.retry_after("other") is None
    ticker.now += 20
    assert limiter.retry_after("k") is None


def test_zero_means_no_limit() -> None:
    limiter = RateLimiter(per_minute=0)

    assert all(limiter.retry_after("k") is None for _ in range(1000))


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
    async with httpx.AsyncClient(transport=transport, base_url=APP_ORIGIN) as client:
        response = await client.post(
            "/auth/login", json={"assertion": "edith"}, headers={"x-forwarded-for": forwarded_for}
        )
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
