"""Metrics across workers: `signet serve --workers N` has its workers share a directory for
their metrics, so /metrics on any of them answers the totals of all."""

import os
import secrets
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from api.cli import EXIT_OK, main
from api.config import get_settings
from api.observability.metrics import MULTIPROCESS_DIRECTORY
from tests.servers import wait_until_healthy

SIGNET = str(Path(sys.executable).with_name("signet"))
DEADLINE = 30.0
# The requests the test counts, labelled apart from the health checks of the start.
COUNTED_PATH = "/not-a-route"
COUNTED = {"route": "unmatched", "method": "GET", "status": "404"}
METRICS = {"route": "/metrics", "method": "GET", "status": "200"}


# `signet serve`, uvicorn.run replaced by a look at what the workers would inherit.


@pytest.fixture
def serve(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str | None]]:
    """Runs `signet serve` with uvicorn.run replaced; the list gets, for each run, the
    PROMETHEUS_MULTIPROC_DIR the workers would have started with."""
    seen: list[str | None] = []

    def run(*_arguments: object, **_options: object) -> None:
        directory = os.environ.get(MULTIPROCESS_DIRECTORY)
        if directory is not None:
            assert Path(directory).is_dir()
            assert stat.S_IMODE(Path(directory).stat().st_mode) == 0o700
            assert list(Path(directory).iterdir()) == []
        seen.append(directory)

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.delenv(MULTIPROCESS_DIRECTORY, raising=False)
    monkeypatch.setenv("SIGNET_ENV", "development")
    monkeypatch.setenv("SIGNET_METRICS", "true")
    # Its own file (serve connects before serving; the default would make ./signet.db), not in
    # tmp_path, which a test hands over as the metrics directory.
    database = tmp_path_factory.mktemp("database") / "signet.db"
    monkeypatch.setenv("SIGNET_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    get_settings.cache_clear()
    yield seen
    get_settings.cache_clear()


def test_several_workers_share_a_fresh_private_directory_removed_at_the_end(
    serve: list[str | None],
) -> None:
    assert main(["serve", "--workers", "2"]) == EXIT_OK
    assert main(["serve", "--workers", "2"]) == EXIT_OK

    first, second = serve
    assert first is not None
    assert second is not None
    assert first != second  # each run starts from nothing
    assert not Path(first).exists()
    assert not Path(second).exists()
    assert MULTIPROCESS_DIRECTORY not in os.environ


def test_the_operators_directory_is_used_as_it_is(
    serve: list[str | None], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MULTIPROCESS_DIRECTORY, str(tmp_path))

    assert main(["serve", "--workers", "2"]) == EXIT_OK

    assert serve == [str(tmp_path)]
    assert tmp_path.is_dir()
    assert os.environ[MULTIPROCESS_DIRECTORY] == str(tmp_path)


def test_one_worker_or_no_metrics_change_nothing(
    serve: list[str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["serve"]) == EXIT_OK
    monkeypatch.setenv("SIGNET_METRICS", "false")
    get_settings.cache_clear()
    assert main(["serve", "--workers", "4"]) == EXIT_OK

    assert serve == [None, None]


# The real thing: `signet serve --workers 2`.


@dataclass
class Served:
    url: str
    metrics_directory: Path  # the private one the command made, found under its TMPDIR
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://localhost:{port}"
    temporary = tmp_path / "tmp"  # where the command makes its metrics directory
    temporary.mkdir()
    environment = {
        **{name: value for name, value in os.environ.items() if name != MULTIPROCESS_DIRECTORY},
        "SIGNET_ENV": "development",
        "SIGNET_METRICS": "true",
        "SIGNET_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'signet.db'}",
        "SIGNET_SECRET_KEY": secrets.token_urlsafe(32),
        "SIGNET_AUDIENCE": url,
        "SIGNET_PUBLIC_URL": url,
        "SIGNET_VERIFIER_URL": f"{url}/dev-idp/verify",
        "TMPDIR": str(temporary),
    }
    subprocess.run(
        [SIGNET, "migrate"], env=environment, cwd=tmp_path, check=True, capture_output=True
    )
    log_path = tmp_path / "serve.log"
    command = [SIGNET, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=environment, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_until_healthy(url, process, log_path, timeout=DEADLINE)
        (directory,) = temporary.glob("signet-metrics-*")
        yield Served(url, directory, process, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def counts_by_worker(directory: Path, labels: dict[str, str]) -> dict[str, float]:
    """signet_requests_total{labels} as each worker's own file has it, by worker pid."""
    counts: dict[str, float] = {}
    for path in directory.glob("counter_*.db"):
        merged = MultiProcessCollector.merge([str(path)])  # type: ignore[no-untyped-call]
        for metric in merged:
            for sample in metric.samples:
                if sample.name == "signet_requests_total" and sample.labels == labels:
                    counts[path.stem.removeprefix("counter_")] = sample.value
    return counts


def reported(url: str, labels: dict[str, str]) -> float:
    """signet_requests_total{labels} as /metrics answers it, on a new connection."""
    answer = httpx.get(f"{url}/metrics")
    assert answer.status_code == 200
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if sample.name == "signet_requests_total" and sample.labels == labels:
                return sample.value
    return 0.0


@pytest.mark.scale_out
def test_metrics_on_either_worker_total_the_requests_of_both(served: Served) -> None:
    directory = served.metrics_directory
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    deadline = time.monotonic() + DEADLINE

    # Requests on new connections, until each worker has counted some in its own file.
    sent = 0
    while sent < 20 or len(counts_by_worker(directory, COUNTED)) < 2:
        assert time.monotonic() < deadline, (
            f"after {sent} requests: {counts_by_worker(directory, COUNTED)}\n{served.log()}"
        )
        assert httpx.get(f"{served.url}{COUNTED_PATH}").status_code == 404
        sent += 1
    assert sum(counts_by_worker(directory, COUNTED).values()) == sent

    # /metrics, asked on new connections until each worker has answered it, totals them all.
    while len(counts_by_worker(directory, METRICS)) < 2:
        assert time.monotonic() < deadline, f"{counts_by_worker(directory, METRICS)}"
        assert reported(served.url, COUNTED) == sent

    # Stopped, the command removes its directory.
    served.process.terminate()
    assert served.process.wait(timeout=15) == 0, served.log()
    assert not directory.exists()
