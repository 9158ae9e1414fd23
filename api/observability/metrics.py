"""Prometheus metrics, when SIGNET_METRICS=true: requests, login outcomes, verifier latency,
session checks. Off, they cost nothing: the app records into a no-op."""

from typing import Protocol

from fastapi import FastAPI
from fastapi.responses import Response


class Metrics(Protocol):
    def request(self, *, route: str, method: str, status: int) -> None: ...

    def login(self, *, kind: str, outcome: str) -> None: ...

    def verifier_seconds(self, seconds: float) -> None: ...

    def session_check(self, *, signed_in: bool) -> None: ...


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


class PrometheusMetrics:
    """Records into a registry of its own, served at /metrics by `mount_metrics`."""

    def __init__(self) -> None:
        # Imported here: only deployments that turn metrics on need prometheus-client.
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry()
        self._requests = Counter(
            "signet_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self._logins = Counter(
            "signet_logins",
            "Sign-ins (login and token), by kind and outcome.",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self._verifier = Histogram(
            "signet_verifier_seconds",
            "Time spent asking the verifier, answer or not.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self._session_checks = Counter(
            "signet_session_checks",
            "Session checks, by whether a session was found.",
            ["signed_in"],
            registry=self.registry,
        )

    def request(self, *, route: str, method: str, status: int) -> None:
        self._requests.labels(route, method, str(status)).inc()

    def login(self, *, kind: str, outcome: str) -> None:
        self._logins.labels(kind, outcome).inc()

    def verifier_seconds(self, seconds: float) -> None:
        self._verifier.observe(seconds)

    def session_check(self, *, signed_in: bool) -> None:
        self._session_checks.labels(str(signed_in).lower()).inc()


def mount_metrics(app: FastAPI, metrics: PrometheusMetrics) -> None:
    """Serve the metrics in Prometheus' text format at /metrics."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
