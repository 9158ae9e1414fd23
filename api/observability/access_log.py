"""The access log: one line per answer, written without `logging`'s per-record machinery.

Through `logging`, an access line cost more than the session check it records (a record, a
caller lookup, a formatter, a lock and a flush for every line). Here the line is formatted
directly, and the lines of one turn of the event loop are written and flushed together. When
anything besides Signet's own handler listens to `signet.access` (an embedding application's
logging configuration, pytest's caplog), the line goes through `logging` as before.
"""

import asyncio
import time
from json.encoder import encode_basestring_ascii
from typing import TextIO

from api.observability.logs import access_logger, sole_signet_stream


class AccessLog:
    """Writes the access line for each answer, as JSON or as readable text."""

    def __init__(self, *, json_lines: bool) -> None:
        self._json_lines = json_lines
        self._pending: list[str] = []
        self._stream: TextIO | None = None
        self._second = -1
        self._time = ""

    def answered(
        self, *, request_id: str, method: str, path: str, status: int, started: float
    ) -> None:
        """Log an answer; `path` never with its query string (it may carry secrets)."""
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        # A path may hold any character once percent-decoded: no line of its making.
        shown = path if path.isprintable() else path.encode("unicode_escape").decode("ascii")
        stream = sole_signet_stream()
        if stream is None:
            access_logger.info(
                "%s %s %d",
                method,
                shown,
                status,
                extra={
                    "request_id": request_id,
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": duration_ms,
                },
            )
            return
        if self._json_lines:
            method_json, path_json = encode_basestring_ascii(method), encode_basestring_ascii(path)
            message = encode_basestring_ascii(f"{method} {shown} {status}")
            line = (
                f'{{"time": "{self._now()}", "level": "INFO", "logger": "signet.access", '
                f'"message": {message}, "request_id": "{request_id}", "method": {method_json}, '
                f'"path": {path_json}, "status": {status}, "duration_ms": {duration_ms}}}\n'
            )
        else:
            line = f"INFO     signet.access [{request_id}] {method} {shown} {status}\n"
        self._write(stream, line)

    def _now(self) -> str:
        now = time.time()
        if int(now) != self._second:
            self._second = int(now)
            self._time = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(now))
        return self._time

    def _write(self, stream: TextIO, line: str) -> None:
        if self._stream is not stream:
            self.flush()
            self._stream = stream
        self._pending.append(line)
        if len(self._pending) == 1:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:
                self.flush()

    def flush(self) -> None:
        """Write the lines waiting for the end of this turn of the event loop."""
        lines, self._pending = self._pending, []
        if lines and self._stream is not None:
            try:
                self._stream.write("".join(lines))
                self._stream.flush()
            except (OSError, ValueError):  # stderr closed: there is nowhere left to log
                pass
