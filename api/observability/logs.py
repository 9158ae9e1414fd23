"""Logs an operator can use: one line per request with a request id, one event per login outcome.

JSON lines in production, readable lines in development. Assertions, tokens and cookies are never
logged; emails only with SIGNET_LOG_EMAILS=true.
"""

import json
import logging
import os
import re
from contextvars import ContextVar
from typing import TextIO

request_id: ContextVar[str] = ContextVar("request_id", default="-")
access_logger = logging.getLogger("signet.access")
_STANDARD_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
# The handler configure_logging installed, if it did.
_signet_handler: logging.StreamHandler[TextIO] | None = None


def request_id_for(incoming: str | None) -> str:
    """The id of a request: the one it brought in X-Request-ID if valid, else a new one."""
    if incoming is not None and _VALID_REQUEST_ID.fullmatch(incoming):
        return incoming
    if not _fresh_ids:
        # 16 hex digits from the OS's random source, as secrets.token_hex(8), but read 512 at
        # a time: a system call per request was a tenth of a front-door answer.
        block = os.urandom(8 * 512).hex()
        _fresh_ids.extend(block[start : start + 16] for start in range(0, len(block), 16))
    return _fresh_ids.pop()


_fresh_ids: list[str] = []
# A forked worker must not hand out its parent's ids.
os.register_at_fork(after_in_child=_fresh_ids.clear)


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
    global _signet_handler
    logger = logging.getLogger("signet")
    if logger.handlers:
        return
    handler: logging.StreamHandler[TextIO] = logging.StreamHandler()
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(
        JSONFormatter()
        if json_lines
        else logging.Formatter("%(levelname)-8s %(name)s [%(request_id)s] %(message)s")
    )
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    _signet_handler = handler


def sole_signet_stream() -> TextIO | None:
    """The stream of Signet's own handler when an access line would reach nothing else, so it
    may be written there directly; None when `logging` must carry it (or drop it)."""
    handler = _signet_handler
    signet = access_logger.parent
    if (
        handler is None
        or signet is None
        or access_logger.handlers
        or access_logger.filters
        or not access_logger.propagate
        or not access_logger.isEnabledFor(logging.INFO)
        or len(signet.handlers) != 1
        or signet.handlers[0] is not handler
        or signet.filters
        or (signet.propagate and logging.root.handlers)
        or handler.level > logging.INFO
    ):
        return None
    return handler.stream
