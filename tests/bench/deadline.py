"""How long a login waits on a provider that drips its answer: SIGNET_VERIFIER_TIMEOUT is a
deadline for the whole verification, so the answer must be a 503 within the timeout + 0.5 s.

    .venv/bin/python -m tests.bench.deadline [--timeout 2] [--logins 5]

Serves a Persona verifier on loopback that sends its headers at once and then one byte a
second (each read well within a per-read timeout), serves Signet against it as `signet serve`
would, and times each login.
"""

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.bench.run import SIGNET_CORE, migrate, serve


@contextmanager
def dripping_verifier() -> Iterator[str]:
    """A verifier on a loopback port of its own thread: one byte a second, never finishing."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    address: list[int] = []

    async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
            writer.write(b"Content-Length: 1000\r\n\r\n")
            while True:
                writer.write(b" ")
                await writer.drain()
                await asyncio.sleep(1)  # the provider's pace
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(drip, "127.0.0.1", 0)
        address.append(server.sockets[0].getsockname()[1])
        started.set()
        async with server:
            await stopping.wait()
        for task in asyncio.all_tasks() - {asyncio.current_task()}:
            task.cancel()

    stopping = asyncio.Event()
    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    started.wait(10)
    try:
        yield f"http://127.0.0.1:{address[0]}/verify"
    finally:
        loop.call_soon_threadsafe(stopping.set)
        thread.join(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=2.0, help="SIGNET_VERIFIER_TIMEOUT")
    parser.add_argument("--logins", type=int, default=5)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory, dripping_verifier() as verifier_url:
        database_url = f"sqlite+aiosqlite:///{directory}/deadline.db"
        base = {**os.environ, "SIGNET_DATABASE_URL": database_url}
        migrate(database_url)
        environment = {
            **base,
            "SIGNET_ENV": "production",
            "SIGNET_SECRET_KEY": secrets.token_urlsafe(32),
            "SIGNET_VERIFIER_URL": verifier_url,
            "SIGNET_AUDIENCE": "https://app.example",
            "SIGNET_VERIFIER_TIMEOUT": f"{arguments.timeout:g}",
            "SIGNET_RATE_LIMIT_PER_ADDRESS": "0",
        }
        with serve(
            "api.app:create_app", core=SIGNET_CORE, environment=environment, factory=True
        ) as (url, _):
            took = []
            statuses = []
            for _ in range(arguments.logins):
                started = time.perf_counter()
                response = httpx.post(f"{url}/auth/login", json={"assertion": "a"}, timeout=60)
                took.append(time.perf_counter() - started)
                statuses.append(response.status_code)
    bound = arguments.timeout + 0.5
    worst = max(took)
    print(
        f"A provider dripping one byte a second, SIGNET_VERIFIER_TIMEOUT={arguments.timeout:g}:"
        f" {arguments.logins} logins answered {sorted(set(statuses))} in"
        f" {min(took):.2f} to {worst:.2f} s (target <= {bound:g} s,"
        f" {'met' if worst <= bound and set(statuses) == {503} else 'NOT met'})."
    )
    return 0 if set(statuses) == {503} else 1


if __name__ == "__main__":
    sys.exit(main())
