"""Request heads bounded in size and time (api/web/http_protocol.py), on real servers and raw
sockets: `signet dev`, which serves as `signet serve` does, with the defaults (16 KiB, 14 s); and
uvicorn with the same protocol but a one-second deadline, to see clients dropped quickly."""

import os
import secrets
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import httpx
import pytest

from api.cli import EXIT_OK, main
from api.config import get_settings
from api.web.http_protocol import HEADER_LIMIT_BYTES, GuardedHttpToolsProtocol
from tests.servers import REPO, SERVER_START_TIMEOUT, free_port

KIB = 1024
QUICK_DEADLINE_SECONDS = 1.0
DROPPED_WITHIN_SECONDS = 3.0  # the quick deadline, with a generous margin
DRIPPERS = 200

Address = tuple[str, int]


class OneSecondHeadersProtocol(GuardedHttpToolsProtocol):
    """The guard with a deadline short enough for a test (served by `quick` below)."""

    headers_deadline_seconds = QUICK_DEADLINE_SECONDS


class Served:
    """`command` with `--host 127.0.0.1 --port P` appended, started at once; `wait` until its
    /healthz answers."""

    def __init__(self, command: list[str], environment: dict[str, str], log: Path) -> None:
        self.address: Address = ("127.0.0.1", free_port())
        self.log = log
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [*command, "--host", self.address[0], "--port", str(self.address[1])],
                cwd=REPO,
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def wait(self) -> Address:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not self._healthy():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{self.log.read_text(errors='replace')}")
            time.sleep(0.05)  # polling a condition, bounded by the deadline
        return self.address

    def _healthy(self) -> bool:
        url = f"http://{self.address[0]}:{self.address[1]}/healthz"
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Address]]:
    """Two servers, started side by side: "signet" (`signet dev`) and "quick"."""
    directory = tmp_path_factory.mktemp("slow-clients")
    base = {**os.environ, "SIGNET_SECRET_KEY": secrets.token_urlsafe(32)}
    signet = [str(Path(sys.executable).parent / "signet"), "dev"]
    quick = [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app"]
    quick += ["--http", f"{__name__}:{OneSecondHeadersProtocol.__name__}"]
    with ExitStack() as stack:
        started = {}
        for name, command, environment in (
            ("signet", signet, {"SIGNET_DATABASE_URL": f"sqlite+aiosqlite:///{directory}/dev.db"}),
            (
                "quick",
                quick,
                # /healthz never touches the database; nothing else is asked here.
                {
                    "SIGNET_ENV": "development",
                    "SIGNET_DATABASE_URL": f"sqlite+aiosqlite:///{directory}/quick.db",
                },
            ),
        ):
            started[name] = Served(command, {**base, **environment}, directory / f"{name}.log")
            stack.callback(started[name].stop)
        yield {name: server.wait() for name, server in started.items()}


@pytest.fixture
def signet(servers: dict[str, Address]) -> Address:
    return servers["signet"]


@pytest.fixture
def quick(servers: dict[str, Address]) -> Address:
    return servers["quick"]


def request(path: str = "/healthz", *, header_bytes: int = 0, method: str = "GET") -> bytes:
    """A request whose one X-Pad header makes its head about `header_bytes` long."""
    return f"{method} {path} HTTP/1.1\r\nHost: test\r\nX-Pad: {'a' * header_bytes}\r\n\r\n".encode()


def read_response(stream: BinaryIO) -> bytes:
    """One response read from `stream` (its status line, headers and Content-Length body), or
    what came before the server closed."""
    try:
        lines = [stream.readline()]
        while lines[-1] not in (b"\r\n", b""):
            lines.append(stream.readline())
        length = next(
            (
                int(line.split(b":")[1])
                for line in lines
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        return b"".join(lines) + stream.read(length)
    except ConnectionResetError:
        return b""


def status_of(response: bytes) -> int | None:
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1 ") else None


@contextmanager
def connected(address: Address) -> Iterator[tuple[socket.socket, BinaryIO]]:
    """A connection, and its buffered reading side (which a few responses can share)."""
    with (
        socket.create_connection(address, timeout=10) as connection,
        connection.makefile("rb") as stream,
    ):
        yield connection, stream


def exchange(address: Address, data: bytes) -> bytes:
    with connected(address) as (connection, stream):
        connection.sendall(data)
        return read_response(stream)


class Dripper:
    """A client that sends a request line, then its headers a byte at a time."""

    def __init__(self, address: Address) -> None:
        self.socket = socket.create_connection(address, timeout=10)
        self.stream = self.socket.makefile("rb")
        self.opened = time.monotonic()
        self.socket.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Drip: ")

    def drip(self) -> None:
        self.socket.send(b"a")

    def closed_by_server(self) -> bool:
        """Whether the server has answered or closed (without waiting)."""
        readable, _, _ = select.select([self.socket], [], [], 0)
        return bool(readable)

    def until_dropped(self, *, within: float, interval: float = 1.0) -> tuple[float, bytes]:
        """Drips a byte each `interval` until the server answers or closes; the seconds since
        connecting, and what it sent."""
        while time.monotonic() - self.opened < within:
            readable, _, _ = select.select([self.socket], [], [], interval)
            if readable:
                response = read_response(self.stream)
                return time.monotonic() - self.opened, response
            try:
                self.drip()
            except OSError:  # closed between the select and the send
                return time.monotonic() - self.opened, b""
        raise AssertionError(f"still connected after {within} s")

    def close(self) -> None:
        self.stream.close()
        self.socket.close()


def test_an_8_kib_header_is_answered(signet: Address) -> None:
    assert status_of(exchange(signet, request(header_bytes=8 * KIB))) == 200


def test_a_20_kib_header_is_refused_with_a_431_problem(signet: Address) -> None:
    response = exchange(signet, request(header_bytes=20 * KIB))

    assert status_of(response) == 431
    assert b"content-type: application/problem+json" in response
    assert b'"status":431' in response


def test_a_head_streamed_past_the_limit_is_refused_before_its_end(signet: Address) -> None:
    with connected(signet) as (connection, stream):
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Pad: ")
        try:
            for _ in range(1024):  # up to 16 MiB, never ending the header
                connection.sendall(b"a" * 16 * KIB)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused while sending: the point
        received = read_response(stream)

    assert status_of(received) in (431, None)  # a 431, or closed before it could be read
    assert status_of(exchange(signet, request())) == 200


def test_a_head_under_the_limit_sent_in_pieces_is_answered(signet: Address) -> None:
    head = request(header_bytes=HEADER_LIMIT_BYTES - 1 * KIB)
    with connected(signet) as (connection, stream):
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for start in range(0, len(head), KIB):
            connection.sendall(head[start : start + KIB])
            time.sleep(0.002)  # a client writing its head in pieces, read in as many reads
        response = read_response(stream)

    assert status_of(response) == 200


def test_many_small_headers_over_the_limit_in_all_are_refused(signet: Address) -> None:
    headers = "".join(f"X-Header-{n}: {'b' * 100}\r\n" for n in range(200))  # ~23 KiB in all
    head = f"GET /healthz HTTP/1.1\r\nHost: test\r\n{headers}\r\n".encode()

    assert status_of(exchange(signet, head)) == 431


def test_a_body_is_not_counted_with_the_headers(signet: Address) -> None:
    body = b"x" * 15 * KIB
    head = request(method="POST", header_bytes=15 * KIB).removesuffix(b"\r\n")
    head += f"Content-Length: {len(body)}\r\n\r\n".encode()

    # In one write: the head and body together are over the limit, each alone is not.
    assert len(head) < HEADER_LIMIT_BYTES < len(head + body)
    assert status_of(exchange(signet, head + body)) == 405  # /healthz is GET only


def test_pipelined_requests_near_the_limit_are_each_answered(signet: Address) -> None:
    with connected(signet) as (connection, stream):
        connection.sendall(request(header_bytes=12 * KIB) * 2)
        first, second = read_response(stream), read_response(stream)

    assert (status_of(first), status_of(second)) == (200, 200)


def test_a_client_dripping_its_headers_is_dropped_after_the_deadline(quick: Address) -> None:
    dripper = Dripper(quick)
    try:
        elapsed, response = dripper.until_dropped(within=DROPPED_WITHIN_SECONDS + 5)
    finally:
        dripper.close()

    assert QUICK_DEADLINE_SECONDS * 0.9 <= elapsed < DROPPED_WITHIN_SECONDS
    assert status_of(response) == 408


def test_a_connection_that_sends_nothing_is_closed_after_the_deadline(quick: Address) -> None:
    with connected(quick) as (_, stream):
        opened = time.monotonic()
        received = read_response(stream)
        elapsed = time.monotonic() - opened

    assert received == b""
    assert elapsed < DROPPED_WITHIN_SECONDS


def test_a_second_request_dripped_on_a_kept_alive_connection_is_dropped(quick: Address) -> None:
    dripper = Dripper(quick)
    try:
        dripper.socket.sendall(b"a\r\n\r\n")  # the first request, whole and answered
        assert status_of(read_response(dripper.stream)) == 200
        dripper.socket.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Drip: ")
        dripper.opened = time.monotonic()
        elapsed, response = dripper.until_dropped(within=DROPPED_WITHIN_SECONDS + 5)
    finally:
        dripper.close()

    assert elapsed < DROPPED_WITHIN_SECONDS
    assert status_of(response) == 408


def test_healthz_answers_quickly_with_200_drippers_open(signet: Address) -> None:
    drippers = [Dripper(signet) for _ in range(DRIPPERS)]
    stop = threading.Event()

    def drip_each_second() -> None:
        while not stop.wait(1.0):  # a dripper's pace, not a synchronisation
            for dripper in drippers:
                dripper.drip()

    dripping = threading.Thread(target=drip_each_second)
    dripping.start()
    try:
        latencies = []
        with httpx.Client(base_url=f"http://{signet[0]}:{signet[1]}") as client:
            for _ in range(20):
                started = time.perf_counter()
                assert client.get("/healthz").status_code == 200
                latencies.append(time.perf_counter() - started)
        still_open = sum(not dripper.closed_by_server() for dripper in drippers)
    finally:
        stop.set()
        dripping.join()
        for dripper in drippers:
            dripper.close()

    assert still_open == DRIPPERS  # measured while every dripper was connected
    assert max(latencies) < 1.0


def test_signet_serve_and_dev_serve_with_the_guard(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SIGNET_ENV", raising=False)
    monkeypatch.setenv("SIGNET_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'dev.db'}")
    monkeypatch.setenv("SIGNET_SECRET_KEY", secrets.token_urlsafe(32))
    monkeypatch.setenv("SIGNET_AUDIENCE", "https://app.example")
    monkeypatch.setenv("SIGNET_VERIFIER_URL", "https://verifier.example/verify")
    runs: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda *_, **options: runs.append(options))
    get_settings.cache_clear()

    assert main(["serve"]) == EXIT_OK
    get_settings.cache_clear()
    assert main(["dev"]) == EXIT_OK
    get_settings.cache_clear()

    assert [run["http"] for run in runs] == [GuardedHttpToolsProtocol] * 2
