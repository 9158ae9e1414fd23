"""Logs an operator can use: one line per request with a request id, one event per login outcome.

JSON lines in production, readable lines in development. Assertions, tokens and cookies are never
logged; emails only with SIGNET_LOG_EMAILS=true.
"""

import json
import logging
from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="-")
_STANDARD_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


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
