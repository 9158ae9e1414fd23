"""Prometheus metrics, behind SIGNET_METRICS."""

import httpx
import pytest

from api.app import create_app
from api.config import Settings
from api.testing import FakeProvider
from tests.apps import APP_ORIGIN


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"metrics": True})


@pytest.fixture
def verifier(verifier: FakeProvider) -> FakeProvider:
    verifier.accept("edith", email="edith@example.com")
    return verifier


async def test_metrics_count_requests_logins_verifier_time_and_session_checks(
    client: httpx.AsyncClient,
) -> None:
    await client.get("/healthz")
    await client.post("/auth/login", json={"assertion": "edith"})
    await client.post("/auth/login", json={"assertion": "forged"})
    await client.get("/auth/me")

    text = (await client.get("/metrics")).text

    assert 'signet_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    assert 'signet_logins_total{kind="cookie",outcome="ok"} 1.0' in text
    assert 'signet_logins_total{kind="cookie",outcome="AssertionRejected"} 1.0' in text
    assert "signet_verifier_seconds_count 2.0" in text
    assert 'signet_session_checks_total{signed_in="true"} 1.0' in text


async def test_unmatched_paths_share_one_label(client: httpx.AsyncClient) -> None:
    for path in ("/a", "/b", "/c"):
        await client.get(path)

    text = (await client.get("/metrics")).text

    assert 'signet_requests_total{method="GET",route="unmatched",status="404"} 3.0' in text


async def test_without_the_setting_there_is_no_metrics_endpoint(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"metrics": False}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=APP_ORIGIN) as client:
        assert (await client.get("/metrics")).status_code == 404


async def test_the_gateway_check_is_counted_under_its_own_route(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/auth/login", json={"assertion": "edith"})
    await client.get("/auth/check")

    text = (await client.get("/metrics")).text

    assert 'signet_requests_total{method="GET",route="/auth/check",status="204"} 1.0' in text
