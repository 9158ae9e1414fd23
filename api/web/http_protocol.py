"""The HTTP protocol `signet serve` runs: uvicorn's httptools protocol, with request heads bounded
in size and in time, which uvicorn leaves unbounded.

- Size: a head (request line and headers) over `HEADER_LIMIT_BYTES` is answered `431` and the
  connection closed. The parser is fed as usual and the head counted as it goes, so an oversized
  head costs at most one socket read beyond the limit, never its whole length in memory.
- Time: a head must be complete within `HEADERS_DEADLINE_SECONDS` of the connection opening (for
  its first request) or of its first byte (for the next ones on a kept-alive connection); else
  `408` and the connection closed (a connection that never sent a byte is just closed). Between
  requests, uvicorn's own keep-alive timeout applies.

Serve with `uvicorn.run(..., http=GuardedHttpToolsProtocol)` (or `--http
api.web.http_protocol:GuardedHttpToolsProtocol`); the limits are class attributes, so a subclass
can change them.
"""

import json
from asyncio import TimerHandle, Transport
from http import HTTPStatus
from typing import ClassVar

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

HEADER_LIMIT_BYTES = 16 * 1024
HEADERS_DEADLINE_SECONDS = 15.0


class _HeadTooLarge(Exception):
    """Raised in a parser callback to stop the parser; uvicorn then calls send_400_response."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    header_limit_bytes: ClassVar[int] = HEADER_LIMIT_BYTES
    headers_deadline_seconds: ClassVar[float] = HEADERS_DEADLINE_SECONDS

    # The head being read: whether one has begun and is not yet complete; its bytes the parser
    # has handed over (the URL, whole headers); the bytes of every read since the one it began
    # in. Each is at most its true size, so an honest head near the limit is never refused.
    _head_open = False
    _head_parsed = 0
    _head_streamed = 0
    _head_too_large = False
    _head_timer: TimerHandle | None = None

    def connection_made(self, transport: Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._head_open:
            self._head_streamed += len(data)
        super().data_received(data)
        head_bytes = max(self._head_parsed, self._head_streamed)
        if self._head_open and head_bytes > self.header_limit_bytes:
            self._refuse_too_large()

    # Parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_open, self._head_parsed, self._head_streamed = True, 0, 0
        if self._head_timer is None:
            self._start_head_timer()

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        self._head_parsed += len(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        self._head_parsed += len(name) + len(value) + 4  # ": " and CRLF

    def on_headers_complete(self) -> None:
        self._head_open = False
        self._stop_head_timer()
        if self._head_parsed > self.header_limit_bytes:
            self._head_too_large = True
            raise _HeadTooLarge
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        # uvicorn's answer to a parser error, here also to the one on_headers_complete raised.
        if self._head_too_large:
            self._refuse_too_large()
        else:
            super().send_400_response(msg)

    # The guard

    def _start_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.headers_deadline_seconds, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            # The next request's head is late while this one is answered: close after it.
            self.cycle.keep_alive = False
        elif self._head_open:
            self._refuse(408, "The request's headers did not arrive in time.")
        else:
            self.transport.close()

    def _refuse_too_large(self) -> None:
        self._head_too_large = True
        self._refuse(431, "The request's headers are larger than this service accepts.")

    def _refuse(self, status: int, detail: str) -> None:
        """Answer a problem and close the connection, reading nothing more."""
        self._head_open = False
        self._stop_head_timer()
        if self.transport.is_closing():
            return
        title = HTTPStatus(status).phrase
        problem = {"type": "about:blank", "title": title, "status": status, "detail": detail}
        body = json.dumps(problem, separators=(",", ":")).encode()
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: application/problem+json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()
