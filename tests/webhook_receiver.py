"""A webhook receiver on loopback, in the test's process (a thread): it verifies each delivery
with the `standardwebhooks` package, as any receiver would, and answers as the test says."""

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

# 24 bytes and more, base64: the secrets the tests configure.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OTHER_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    # The monotonic time it arrived.
    at: float
    # Whether standardwebhooks accepted it with each of the receiver's secrets.
    verified: tuple[bool, ...]

    @property
    def event(self) -> dict[str, Any]:
        event: dict[str, Any] = json.loads(self.body)
        return event

    @property
    def id(self) -> int:
        return int(self.headers["webhook-id"])


# What the receiver answers a delivery: a status and headers.
Answer = Callable[[Received], tuple[int, dict[str, str]]]


def accept(_: Received) -> tuple[int, dict[str, str]]:
    return 204, {}


@dataclass
class Receiver:
    port: int
    secrets: tuple[str, ...] = (SECRET,)
    answer: Answer = accept
    received: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/signet"

    def up(self) -> None:
        """Listen (again, on the same port)."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {key.lower(): value for key, value in self.headers.items()}
                verified = tuple(_verifies(secret, body, headers) for secret in receiver.secrets)
                got = Received(self.path, headers, body, time.monotonic(), verified)
                receiver.received.append(got)
                status, extra = receiver.answer(got)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        """Stop listening: connections are refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def ids(self) -> list[int]:
        """The webhook-id of each delivery received, in arrival order (repeats included)."""
        return [got.id for got in self.received if got.path == "/hooks/signet"]


def _verifies(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


@contextmanager
def receiving(**options: Any) -> Iterator[Receiver]:
    """A receiver listening on a free loopback port until the block ends."""
    receiver = Receiver(port=0, **options)
    receiver.up()
    try:
        yield receiver
    finally:
        receiver.down()


async def eventually(condition: Callable[[], Any], *, within: float = 10.0) -> None:
    """Until `condition()` is true; fails after `within` seconds."""
    deadline = time.monotonic() + within
    while not await _holds(condition):
        assert time.monotonic() < deadline, "the condition did not hold in time"
        await asyncio.sleep(0.02)  # polling a condition, bounded by the deadline


async def _holds(condition: Callable[[], Any]) -> bool:
    result = condition()
    if asyncio.iscoroutine(result):
        result = await result
    return bool(result)


def wait_for(condition: Callable[[], bool], *, timeout: float = 15.0) -> None:
    """The same, for tests without an event loop."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.02)  # polling a condition, bounded by the deadline
