"""The HTTP protocol `signet serve` runs: uvicorn's httptools protocol, with request heads bounded
in size and in time, which uvicorn leaves unbounded.

- Size: a head (request line and headers) over `HEADER_LIMIT_BYTES` is answered `431` and the
  connection closed. The head is measured as the parser reads it, so an oversized one costs at
  most one socket read beyond the limit, never its whole length in memory.
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
# The promise is "dropped within 15 s": the deadline leaves the timer a second of slack.
HEADERS_DEADLINE_SECONDS = 14.0


class _HeadTooLarge(Exception):
    """Raised in a parser callback to stop the parser; uvicorn then calls send_400_response."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    header_limit_bytes: ClassVar[int] = HEADER_LIMIT_BYTES
    headers_deadline_seconds: ClassVar[float] = HEADERS_DEADLINE_SECONDS

    # A head is awaited (from the connection's start, and from a request's first byte) until it
    # is complete. `_head_reads` is the length of the socket reads it spans, the first (which
    # may hold the end of the request before) included: never less than the head so far. The
    # cheap checks are on the hot path; the exact count only when a head is that large.
    _head_open = False
    _head_started = 0.0  # the loop's time
    _head_reads = 0
    _head_first_read = 0
    _read = 0  # the length of the read being parsed
    _head_too_large = False
    # One timer a connection at most, re-armed as it fires rather than at each request.
    _head_timer: TimerHandle | None = None

    def connection_made(self, transport: Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_open, self._head_started = True, self.loop.time()
        self._head_timer = self.loop.call_later(self.headers_deadline_seconds, self._head_late)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._read = len(data)
        if self._head_open:
            self._head_reads += self._read
        super().data_received(data)
        if self._head_open and self._head_reads > self.header_limit_bytes:
            # The bytes of the reads since the first are all the head's; so are those parsed.
            read_since = self._head_reads - self._head_first_read
            if max(read_since, self._head_parsed()) > self.header_limit_bytes:
                self._refuse_too_large()

    # Parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self._head_open:  # not the connection's first request: timed from its first byte
            self._head_open, self._head_started = True, self.loop.time()
        self._head_reads = self._head_first_read = self._read
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.headers_deadline_seconds, self._head_late)

    def on_headers_complete(self) -> None:
        self._head_open = False
        if self._head_reads > self.header_limit_bytes and (
            self._head_parsed() > self.header_limit_bytes
        ):
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

    def _head_parsed(self) -> int:
        """The bytes of the head the parser has handed over: the URL and the whole headers."""
        if self.headers is None:  # no request begun yet on this connection
            return 0
        return len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def _head_late(self) -> None:
        self._head_timer = None
        if not self._head_open:
            return  # armed again when the next request begins
        remaining = self._head_started + self.headers_deadline_seconds - self.loop.time()
        if remaining > 0:  # a head begun since the timer was armed
            self._head_timer = self.loop.call_later(remaining, self._head_late)
        elif self.cycle is not None and not self.cycle.response_complete:
            self.cycle.keep_alive = False  # answer the request in flight, then close
        elif self._head_reads:
            self._refuse(408, "The request's headers did not arrive in time.")
        else:
            self.transport.close()  # it never sent a byte

    def _refuse_too_large(self) -> None:
        self._head_too_large = True
        self._refuse(431, "The request's headers are larger than this service accepts.")

    def _refuse(self, status: int, detail: str) -> None:
        """Answer a problem and close the connection, reading nothing more."""
        self._head_open = False
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
