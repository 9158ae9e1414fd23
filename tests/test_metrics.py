"""Prometheus metrics, behind SIGNET_METRICS."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import generate_latest, values

from api.app import create_app
from api.config import Settings
from api.observability.metrics import MULTIPROCESS_DIRECTORY, PrometheusMetrics
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


class Workers:
    """prometheus_client's multiprocess mode inside this process, on a directory of the test's:
    `become(pid)` makes the metric values created from then on record as worker `pid`."""

    def __init__(self, directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.directory = directory
        self._monkeypatch = monkeypatch
        self._value_classes: list[Any] = []

    def become(self, pid: int) -> None:
        value_class = values.MultiProcessValue(lambda: pid)  # type: ignore[no-untyped-call]
        self._value_classes.append(value_class)
        self._monkeypatch.setattr(values, "ValueClass", value_class)

    def close(self) -> None:
        for value_class in self._value_classes:
            value_class.close_all_files()


@pytest.fixture
def workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workers]:
    monkeypatch.setenv(MULTIPROCESS_DIRECTORY, str(tmp_path))
    workers = Workers(tmp_path, monkeypatch)
    yield workers
    workers.close()


def test_in_multiprocess_mode_each_worker_reports_the_totals_of_all(workers: Workers) -> None:
    workers.become(101)
    first = PrometheusMetrics()
    first.request(route="/healthz", method="GET", status=200)
    first.login(kind="cookie", outcome="ok")
    first.verifier_seconds(0.02)
    first.session_check(signed_in=True)
    workers.become(102)
    second = PrometheusMetrics()
    second.request(route="/healthz", method="GET", status=200)
    second.request(route="/healthz", method="GET", status=200)
    second.login(kind="cookie", outcome="ok")
    second.verifier_seconds(3.0)
    second.session_check(signed_in=True)

    for metrics in (first, second):
        lines = generate_latest(metrics.registry).decode().splitlines()
        # Each series once: the metrics reach /metrics through the files only.
        assert 'signet_requests_total{method="GET",route="/healthz",status="200"} 3.0' in lines
        assert sum(line.startswith("signet_requests_total{") for line in lines) == 1
        assert 'signet_logins_total{kind="cookie",outcome="ok"} 2.0' in lines
        assert "signet_verifier_seconds_count 2.0" in lines
        assert 'signet_verifier_seconds_bucket{le="0.025"} 1.0' in lines
        assert 'signet_verifier_seconds_bucket{le="5.0"} 2.0' in lines
        assert 'signet_session_checks_total{signed_in="true"} 2.0' in lines
    assert sorted(path.name for path in workers.directory.glob("counter_*.db")) == [
        "counter_101.db",
        "counter_102.db",
    ]


def test_a_directory_set_too_late_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As when prometheus_client was imported before PROMETHEUS_MULTIPROC_DIR was set: the
    # values would stay in memory and /metrics would silently miss them.
    monkeypatch.setattr(values, "ValueClass", values.MutexValue)
    monkeypatch.setenv(MULTIPROCESS_DIRECTORY, str(tmp_path))

    with pytest.raises(RuntimeError, match="before the process starts"):
        PrometheusMetrics()


def test_a_missing_directory_is_refused(workers: Workers) -> None:
    workers.become(101)
    workers.directory.rmdir()

    with pytest.raises(RuntimeError, match="is not a directory"):
        PrometheusMetrics()
