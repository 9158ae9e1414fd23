"""Logs an operator can use: one line per request with a request id, one event per login outcome.

JSON lines in production, readable lines in development. Assertions, tokens and cookies are never
logged; emails only with SIGNET_LOG_EMAILS=true.
"""

import json
import logging
import re
import secrets
import time
from contextvars import ContextVar

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.observability.metrics import Metrics

request_id: ContextVar[str] = ContextVar("request_id", default="-")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_STANDARD_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

access_logger = logging.getLogger("signet.access")


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JSONFormatter(logging.Formatter):
    """One JSON object per line, with the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry |= {
            key: value
            for key, value in vars(record).items()
            if key not in _STANDARD_RECORD_FIELDS and not key.startswith("_")
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(*, json_lines: bool) -> None:
    """Send Signet's logs to stderr, once per process, as JSON lines or readable text."""
    logger = logging.getLogger("signet")
    if logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(
        JSONFormatter()
        if json_lines
        else logging.Formatter("%(levelname)-8s %(name)s [%(request_id)s] %(message)s")
    )
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


class RequestLogMiddleware:
    """Gives each request an id (an incoming valid X-Request-ID, or a new one), returns it in
    X-Request-ID, and logs one line when the response starts: method, path, status, duration."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        current = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else secrets.token_hex(8)
        reset = request_id.set(current)
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-ID"] = current
                route = scope.get("route")
                self.metrics.request(
                    route=getattr(route, "path", "unmatched"),
                    method=scope["method"],
                    status=message["status"],
                )
                access_logger.info(
                    "%s %s %d",
                    scope["method"],
                    scope["path"],  # never the query string: it may carry secrets
                    message["status"],
                    extra={
                        "request_id": current,
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": message["status"],
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(reset)
