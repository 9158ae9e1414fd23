"""Request heads bounded in size and time: Signet's guard against uvicorn's stock protocol.

    .venv/bin/python -m tests.bench.guard [--drippers 200] [--header-mb 50] [--wrk-seconds 5]

Serves Signet twice, one after the other, each pinned to core 0 (this process and wrk on core 1):
`signet serve`, which runs the guard (api/web/http_protocol.py), and `uvicorn --http httptools`
with the options `signet serve` passes (stock). On each, one worker, in production mode:

- wrk on `GET /healthz` (32 connections), the guard's cost on the hot path;
- `/healthz` latency over 100 requests on one connection, alone and then with N dripping clients
  open (each sends a request line, then a header byte a second);
- how long each dripping client stays connected (until the server answers or closes; stock
  uvicorn never does, so it is given the deadline and 5 s more);
- the worker's resident memory before, at its peak during and after one request with a header
  of 50 MB (the peak is reset first through /proc/PID/clear_refs).

Then, in this process and without sockets, each protocol's own cost a request.

Prints one markdown table and the issue's targets. Exits 2 if wrk is missing.
"""

import argparse
import asyncio
import math
import os
import platform
import secrets
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import uvloop
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from api.web.http_protocol import HEADERS_DEADLINE_SECONDS, GuardedHttpToolsProtocol
from tests.bench.run import LOAD_CORE, REPO, SIGNET_CORE, Scenario, pinned, run_wrk, running
from tests.servers import free_port

MB = 1024 * 1024
LATENCY_REQUESTS = 100
IN_PROCESS_REQUESTS, IN_PROCESS_ROUNDS = 20_000, 11
WRK_CONNECTIONS = 32
STOCK_PATIENCE_SECONDS = HEADERS_DEADLINE_SECONDS + 5
# The targets.
RSS_GROWTH_TARGET_MB = 5.0
DROPPED_WITHIN_TARGET_SECONDS = 15.0
LATENCY_TARGET_MS = 100.0

# The options `signet serve` gives uvicorn (api/cli.py), on uvicorn's command line.
STOCK = [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--http", "httptools"]
STOCK += ["--no-access-log", "--no-proxy-headers", "--no-server-header"]
GUARDED = [str(Path(sys.executable).parent / "signet"), "serve"]


@dataclass
class Measured:
    server: str
    requests_per_second: float
    alone_ms: list[float]
    dripped_ms: list[float]
    open_while_measured: int
    drops_seconds: list[float]
    header_answer: str
    rss_before_mb: float
    rss_peak_mb: float
    rss_after_mb: float


@contextmanager
def served(command: list[str], environment: dict[str, str]) -> Iterator[tuple[str, int]]:
    """`command` on a free loopback port, pinned to Signet's core; yields its URL and pid."""
    port = free_port()
    launched = pinned(SIGNET_CORE, [*command, "--host", "127.0.0.1", "--port", str(port)])
    with running(launched, port=port, environment=environment) as process:
        yield f"http://127.0.0.1:{port}", process.pid


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (the peak) of `pid`, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields


def latencies_ms(url: str, count: int) -> list[float]:
    """`count` sequential GET /healthz on one kept-alive connection, each timed."""
    timings = []
    with httpx.Client(base_url=url) as client:
        client.get("/healthz").raise_for_status()  # the connection, opened
        for _ in range(count):
            started = time.perf_counter()
            client.get("/healthz").raise_for_status()
            timings.append((time.perf_counter() - started) * 1000)
    return timings


class Drippers:
    """`count` clients that each send a request line, then a header byte a second; `drip` in a
    thread until the server has answered or closed each, or `patience` seconds have passed."""

    def __init__(self, address: tuple[str, int], count: int, patience: float) -> None:
        self.patience = patience
        self.opened: dict[socket.socket, float] = {}
        self.dropped: dict[socket.socket, float] = {}
        for _ in range(count):
            connection = socket.create_connection(address)
            self.opened[connection] = time.monotonic()
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nX-Drip: ")
        self.thread = threading.Thread(target=self._drip)
        self.thread.start()

    def _drip(self) -> None:
        started = min(self.opened.values())
        give_up = started + self.patience
        with selectors.DefaultSelector() as selector:
            for connection in self.opened:
                selector.register(connection, selectors.EVENT_READ)
            next_drip = started + 1
            while len(self.dropped) < len(self.opened) and time.monotonic() < give_up:
                for key, _ in selector.select(timeout=max(0, next_drip - time.monotonic())):
                    self._drop(key.fileobj, selector)  # type: ignore[arg-type]
                if time.monotonic() >= next_drip:
                    next_drip += 1
                    for connection in list(self.opened.keys() - self.dropped.keys()):
                        try:
                            connection.send(b"a")
                        except OSError:
                            self._drop(connection, selector)

    def _drop(self, connection: socket.socket, selector: selectors.BaseSelector) -> None:
        """The server answered (a 408) or closed: dropped."""
        self.dropped[connection] = time.monotonic() - self.opened[connection]
        selector.unregister(connection)

    def still_open(self) -> int:
        return len(self.opened) - len(self.dropped)

    def finish(self) -> list[float]:
        """The seconds each dropped client stayed connected."""
        self.thread.join()
        for connection in self.opened:
            connection.close()
        return sorted(self.dropped.values())


def big_header(url: str, pid: int, megabytes: int) -> tuple[str, float, float, float]:
    """One request with a header of `megabytes` MB: what the server answered, and the worker's
    RSS before, at its peak and after, in MB."""
    before = memory_mb(pid)["VmRSS"]
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak, reset to the current RSS
    except OSError:
        print("could not reset the peak RSS: it may predate this request", file=sys.stderr)
    host, port = url.removeprefix("http://").split(":")
    started = time.perf_counter()
    sent = 0
    received = b""
    with socket.create_connection((host, int(port)), timeout=120) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\nX-Big: ")
        chunk = b"a" * (256 * 1024)
        try:
            while sent < megabytes * MB:
                connection.sendall(chunk)
                sent += len(chunk)
            connection.sendall(b"\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused while sending
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
    elapsed = time.perf_counter() - started
    latencies_ms(url, 1)  # the worker is done with it
    after = memory_mb(pid)
    status = received.split(b" ", 2)[1].decode() if received.startswith(b"HTTP/") else "closed"
    answer = f"{status} after {sent / MB:.1f} MB sent, {elapsed:.1f} s"
    return answer, before, after["VmHWM"], after["VmRSS"]


class NullTransport(asyncio.Transport):
    """A transport that drops what is written: the protocol's own cost, without a socket."""

    closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        pass

    def close(self) -> None:
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def answer_ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def protocol_microseconds(protocol: type[HttpToolsProtocol], requests: int) -> float:
    """Microseconds a request, wrk's `GET /healthz` answered by `protocol` on one connection in
    this process, with an app that answers at once: the protocol's own cost."""
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n"
    config = uvicorn.Config(answer_ok, http=protocol, lifespan="off", log_level="warning")
    config.load()
    loop = uvloop.new_event_loop()

    async def serve() -> float:
        state = ServerState()
        connection = protocol(config=config, server_state=state, app_state={}, _loop=loop)
        connection.connection_made(NullTransport())
        started = time.perf_counter()
        for _ in range(requests):
            connection.data_received(request)
            await asyncio.gather(*state.tasks)  # the request's ASGI task
        elapsed = time.perf_counter() - started
        connection.connection_lost(None)
        return elapsed / requests * 1e6

    try:
        return loop.run_until_complete(serve())
    finally:
        loop.close()


def in_process() -> tuple[float, float]:
    """The best of alternating rounds (the least disturbed), stock and guarded."""
    stock, guarded = [], []
    for _ in range(IN_PROCESS_ROUNDS):
        stock.append(protocol_microseconds(HttpToolsProtocol, IN_PROCESS_REQUESTS))
        guarded.append(protocol_microseconds(GuardedHttpToolsProtocol, IN_PROCESS_REQUESTS))
    return min(stock), min(guarded)


def measure(
    server: str, command: list[str], environment: dict[str, str], arguments: argparse.Namespace
) -> Measured:
    with served(command, environment) as (url, pid):
        healthz = Scenario("GET /healthz", "/healthz", "")
        run_wrk(url, healthz, duration=1, connections=WRK_CONNECTIONS)  # warm-up
        report = run_wrk(url, healthz, duration=arguments.wrk_seconds, connections=WRK_CONNECTIONS)
        alone = latencies_ms(url, LATENCY_REQUESTS)
        host, port = url.removeprefix("http://").split(":")
        drippers = Drippers((host, int(port)), arguments.drippers, STOCK_PATIENCE_SECONDS)
        try:
            dripped = latencies_ms(url, LATENCY_REQUESTS)
            open_while_measured = drippers.still_open()
        finally:
            drops = drippers.finish()
        answer, before, peak, after = big_header(url, pid, arguments.header_mb)
    return Measured(
        server=server,
        requests_per_second=report["requests"] / (report["duration_us"] / 1e6),
        alone_ms=alone,
        dripped_ms=dripped,
        open_while_measured=open_while_measured,
        drops_seconds=drops,
        header_answer=answer,
        rss_before_mb=before,
        rss_peak_mb=peak,
        rss_after_mb=after,
    )


def spread(milliseconds: list[float]) -> str:
    ordered = sorted(milliseconds)
    p99 = ordered[math.ceil(0.99 * len(ordered)) - 1]  # nearest rank
    return f"{statistics.median(ordered):.2f} / {p99:.2f} / {ordered[-1]:.2f}"


def table(results: list[Measured], arguments: argparse.Namespace) -> str:
    drippers = arguments.drippers

    def drops(result: Measured) -> str:
        if not result.drops_seconds:
            return f"0 of {drippers} in {STOCK_PATIENCE_SECONDS:g} s"
        return (
            f"{len(result.drops_seconds)} of {drippers}, after {result.drops_seconds[0]:.2f}"
            f" to {result.drops_seconds[-1]:.2f} s"
        )

    rows: list[tuple[str, Callable[[Measured], str]]] = [
        ("wrk GET /healthz, req/s", lambda r: f"{r.requests_per_second:,.0f}"),
        ("/healthz alone, p50 / p99 / max ms", lambda r: spread(r.alone_ms)),
        (
            f"/healthz with {drippers} dripping clients open, p50 / p99 / max ms",
            lambda r: spread(r.dripped_ms),
        ),
        ("dripping clients still open after that", lambda r: str(r.open_while_measured)),
        ("dripping clients dropped", drops),
        (f"{arguments.header_mb} MB header: answer", lambda r: r.header_answer),
        (
            f"{arguments.header_mb} MB header: RSS before / peak / after MB",
            lambda r: f"{r.rss_before_mb:.1f} / {r.rss_peak_mb:.1f} / {r.rss_after_mb:.1f}",
        ),
        (
            f"{arguments.header_mb} MB header: RSS growth to the peak MB",
            lambda r: f"{r.rss_peak_mb - r.rss_before_mb:.1f}",
        ),
    ]
    lines = [
        "| measure | " + " | ".join(result.server for result in results) + " |",
        "|---|" + "---:|" * len(results),
    ]
    lines += [
        f"| {name} | " + " | ".join(cell(result) for result in results) + " |"
        for name, cell in rows
    ]
    return "\n".join(lines)


def verdicts(
    stock: Measured,
    guarded: Measured,
    protocol_us: tuple[float, float],
    arguments: argparse.Namespace,
) -> str:
    def mark(ok: bool) -> str:
        return "met" if ok else "NOT met"

    growth = guarded.rss_peak_mb - guarded.rss_before_mb
    all_dropped = len(guarded.drops_seconds) == arguments.drippers
    last_drop = guarded.drops_seconds[-1] if guarded.drops_seconds else float("inf")
    worst = max(guarded.dripped_ms)
    ratio = guarded.requests_per_second / stock.requests_per_second
    extra = protocol_us[1] - protocol_us[0]
    per_request_us = 1e6 / guarded.requests_per_second
    return "\n".join(
        [
            f"- {arguments.header_mb} MB header: RSS grew {growth:.1f} MB to its peak "
            f"(target < {RSS_GROWTH_TARGET_MB:g}, {mark(growth < RSS_GROWTH_TARGET_MB)}); "
            f"stock uvicorn: {stock.rss_peak_mb - stock.rss_before_mb:.1f} MB",
            f"- dripping clients: {len(guarded.drops_seconds)} of {arguments.drippers} dropped, "
            f"the last after {last_drop:.3f} s (target <= {DROPPED_WITHIN_TARGET_SECONDS:g} s, "
            f"the deadline is {HEADERS_DEADLINE_SECONDS:g} s: "
            f"{mark(all_dropped and last_drop <= DROPPED_WITHIN_TARGET_SECONDS)})",
            f"- /healthz with {arguments.drippers} dripping clients open: max {worst:.2f} ms "
            f"(target <= {LATENCY_TARGET_MS:g}, {mark(worst <= LATENCY_TARGET_MS)})",
            f"- the guard's cost: wrk /healthz {ratio:.2f} x stock uvicorn's req/s (one run "
            "each: this machine's noise is larger than the cost); in process, the protocol "
            f"alone answers a request in {protocol_us[0]:.2f} µs stock and {protocol_us[1]:.2f} "
            f"µs guarded (best of {IN_PROCESS_ROUNDS} rounds), +{extra:.2f} µs, "
            f"{extra / per_request_us:.1%} of a /healthz request under wrk "
            f"({per_request_us:.0f} µs)",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--drippers", type=int, default=200, help="dripping clients")
    parser.add_argument("--header-mb", type=int, default=50, help="the large header's size")
    parser.add_argument("--wrk-seconds", type=float, default=5, help="wrk's run on each server")
    arguments = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {int(LOAD_CORE)})  # the clients, beside wrk

    with tempfile.TemporaryDirectory() as directory:
        environment = {
            **os.environ,
            "SIGNET_ENV": "production",
            "SIGNET_DATABASE_URL": f"sqlite+aiosqlite:///{directory}/guard.db",
            "SIGNET_SECRET_KEY": secrets.token_urlsafe(32),
            # Never asked: nobody signs in here.
            "SIGNET_VERIFIER_URL": "http://127.0.0.1:9/verify",
            "SIGNET_AUDIENCE": "https://app.example",
        }
        subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=REPO,
            env={**environment, "SIGNET_ENV": "development"},
            check=True,
            capture_output=True,
        )
        stock = measure("uvicorn httptools (stock)", STOCK, environment, arguments)
        guarded = measure("`signet serve` (the guard)", GUARDED, environment, arguments)
    protocol_us = in_process()

    cpu = platform.processor() or platform.machine()
    pinning = "pinned with taskset" if shutil.which("taskset") else "not pinned (no taskset)"
    print(
        f"Signet's request-head guard: {os.cpu_count()} cores ({cpu}), Python "
        f"{platform.python_version()}, server on core {SIGNET_CORE}, wrk and clients on core "
        f"{LOAD_CORE}, {pinning}; wrk {arguments.wrk_seconds:g} s, {WRK_CONNECTIONS} connections; "
        f"{LATENCY_REQUESTS} timed /healthz requests a row.\n"
    )
    print(table([stock, guarded], arguments))
    print()
    print(verdicts(stock, guarded, protocol_us, arguments))
    return 0


if __name__ == "__main__":
    sys.exit(main())
