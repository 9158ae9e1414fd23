"""Prometheus metrics, when SIGNET_METRICS=true: requests, login outcomes, verifier latency,
session checks, webhook deliveries and backlog, mail sent. Off, they cost nothing: the app
records into a no-op.

With several worker processes (`signet serve --workers N`), PROMETHEUS_MULTIPROC_DIR names a
directory the workers share: each records into files of its own there, and /metrics on any
worker sums every worker's files (prometheus_client's multiprocess mode)."""

import os
from typing import TYPE_CHECKING, Protocol

from fastapi import FastAPI
from fastapi.responses import Response

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry


class Metrics(Protocol):
    def request(self, *, route: str, method: str, status: int) -> None: ...

    def login(self, *, kind: str, outcome: str) -> None: ...

    def verifier_seconds(self, seconds: float) -> None: ...

    def session_check(self, *, signed_in: bool) -> None: ...

    def revocation_listener_lost(self) -> None: ...

    def webhook_delivery(self, *, webhook: str, outcome: str) -> None: ...

    def webhook_backlog(self, *, webhook: str, pending: int) -> None: ...

    def mail_sent(self, *, outcome: str) -> None: ...

    def passkey_counter_regressed(self) -> None: ...


class NoMetrics:
    """Records nothing."""

    def request(self, *, route: str, method: str, status: int) -> None:
        pass

    def login(self, *, kind: str, outcome: str) -> None:
        pass

    def verifier_seconds(self, seconds: float) -> None:
        pass

    def session_check(self, *, signed_in: bool) -> None:
        pass

    def revocation_listener_lost(self) -> None:
        pass

    def webhook_delivery(self, *, webhook: str, outcome: str) -> None:
        pass

    def webhook_backlog(self, *, webhook: str, pending: int) -> None:
        pass

    def mail_sent(self, *, outcome: str) -> None:
        pass

    def passkey_counter_regressed(self) -> None:
        pass


# Read by prometheus_client when it is first imported: it must be set before the process starts.
MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"


class PrometheusMetrics:
    """Records into a registry of its own, served at /metrics by `mount_metrics`.

    Under PROMETHEUS_MULTIPROC_DIR the metrics write through to this process' files in that
    directory and `registry` holds only a collector of every process' files there, so /metrics
    answers the totals of all workers. Counters and histograms sum across processes as they are.
    A gauge would need a `multiprocess_mode` (and, for the live modes, `mark_process_dead` when a
    worker exits, for which uvicorn has no hook): the webhook backlog, which every worker reads
    from the database alike, reports the most recent reading of any."""

    def __init__(self) -> None:
        # Imported here: only deployments that turn metrics on need prometheus-client.
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        # The registry the metrics themselves join: none in multiprocess mode, where their values
        # reach /metrics through the files (joining `registry` too would report them twice).
        own: CollectorRegistry | None = self.registry
        if MULTIPROCESS_DIRECTORY in os.environ:
            _collect_every_process(self.registry, os.environ[MULTIPROCESS_DIRECTORY])
            own = None
        self._requests = Counter(
            "signet_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=own,
        )
        self._logins = Counter(
            "signet_logins",
            "Sign-ins (login and token), by kind and outcome.",
            ["kind", "outcome"],
            registry=own,
        )
        self._verifier = Histogram(
            "signet_verifier_seconds",
            "Time spent asking the verifier, answer or not.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=own,
        )
        self._session_checks = Counter(
            "signet_session_checks",
            "Session checks, by whether a session was found.",
            ["signed_in"],
            registry=own,
        )
        self._listener_losses = Counter(
            "signet_revocation_listener_losses",
            "Times the PostgreSQL revocation listener lost its connection (until it reconnects, "
            "the worker's session cache is off).",
            registry=own,
        )

        self._webhook_deliveries = Counter(
            "signet_webhook_deliveries",
            "Webhook delivery attempts, by webhook and outcome (delivered, retrying, failed: "
            "given up, disabled: the receiver said 410 Gone).",
            ["webhook", "outcome"],
            registry=own,
        )
        self._webhook_backlog = Gauge(
            "signet_webhook_backlog",
            "Webhook deliveries pending, by webhook.",
            ["webhook"],
            registry=own,
            multiprocess_mode="mostrecent",
        )
        self._mail_sent = Counter(
            "signet_mail_sent",
            "Sign-in messages handed to the mail server, by outcome (sent, failed).",
            ["outcome"],
            registry=own,
        )
        self._passkey_counter_regressions = Counter(
            "signet_passkey_counter_regressions",
            "Passkey sign-ins refused because the signature counter did not go up (a cloned "
            "authenticator, or a signature used twice).",
            registry=own,
        )

    def request(self, *, route: str, method: str, status: int) -> None:
        self._requests.labels(route, method, str(status)).inc()

    def login(self, *, kind: str, outcome: str) -> None:
        self._logins.labels(kind, outcome).inc()

    def verifier_seconds(self, seconds: float) -> None:
        self._verifier.observe(seconds)

    def session_check(self, *, signed_in: bool) -> None:
        self._session_checks.labels(str(signed_in).lower()).inc()

    def revocation_listener_lost(self) -> None:
        self._listener_losses.inc()

    def webhook_delivery(self, *, webhook: str, outcome: str) -> None:
        self._webhook_deliveries.labels(webhook, outcome).inc()

    def webhook_backlog(self, *, webhook: str, pending: int) -> None:
        self._webhook_backlog.labels(webhook).set(pending)

    def mail_sent(self, *, outcome: str) -> None:
        self._mail_sent.labels(outcome).inc()

    def passkey_counter_regressed(self) -> None:
        self._passkey_counter_regressions.inc()


def _collect_every_process(registry: "CollectorRegistry", directory: str) -> None:
    from prometheus_client import values
    from prometheus_client.multiprocess import MultiProcessCollector

    if values.ValueClass is values.MutexValue:
        # prometheus_client was imported before the variable was set: values would stay in
        # memory, and /metrics would miss this process' counts without a word.
        raise RuntimeError(
            f"{MULTIPROCESS_DIRECTORY} must be set before the process starts, "
            "not after prometheus_client is imported"
        )
    if not os.path.isdir(directory):
        raise RuntimeError(f"{MULTIPROCESS_DIRECTORY}={directory!r} is not a directory")
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]


def mount_metrics(app: FastAPI, metrics: PrometheusMetrics) -> None:
    """Serve the metrics in Prometheus' text format at /metrics."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
