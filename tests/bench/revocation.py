"""How long a logout on one host takes to reach another that has the session cached.

    .venv/bin/python -m tests.bench.revocation [--cycles 200] [--postgres-url URL]

SQLite: two Signet processes on one database file (as two workers of a host hear of it, through
the shared file). PostgreSQL (with --postgres-url, a fresh database on that server): two hosts,
each `signet serve --workers 2` (through LISTEN/NOTIFY). Each cycle signs in on the first, checks
the session on the second (so that the worker behind that connection has it cached), logs out on
the first, and asks the second again until it refuses; the delay is from the logout's answer to
the first refusal, so it includes one request's round trip.
"""

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from tests.bench.run import LOAD_CORE, fresh_postgres, migrate, running, serve
from tests.servers import free_port

COOKIE = "__Host-signet_session"
EMAIL = "revoked@example.com"


@contextmanager
def host(environment: dict[str, str], *, workers: int) -> Iterator[str]:
    """`signet serve --workers N` on a free loopback port; yields its URL."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "signet"), "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers)]
    with running(command, port=port, environment=environment):
        yield f"http://127.0.0.1:{port}"


def cycles(first: str, second: str, count: int) -> list[float]:
    """The delays, in seconds, of `count` logouts on `first` reaching `second`."""
    delays = []
    with httpx.Client(base_url=first) as one, httpx.Client(base_url=second) as two:
        for _ in range(count):
            one.cookies.clear()
            token = one.post("/auth/login", json={"assertion": EMAIL}).cookies[COOKIE]
            cookie = {"cookie": f"{COOKIE}={token}"}
            if two.get("/auth/me", headers=cookie).status_code != 200:
                raise SystemExit("the second host did not accept a fresh session")
            one.post("/auth/logout", headers={**cookie, "content-type": "application/json"})
            logged_out = time.perf_counter()
            deadline = logged_out + 5
            while two.get("/auth/me", headers=cookie).status_code == 200:
                if time.perf_counter() > deadline:
                    raise SystemExit("the second host still accepted the session after 5 s")
            delays.append(time.perf_counter() - logged_out)
    return delays


def measure(database_url: str, *, workers: int, count: int) -> list[float]:
    base = {**os.environ, "SIGNET_DATABASE_URL": database_url}
    migrate(database_url)
    with ExitStack() as stack:
        verifier_url, _ = stack.enter_context(
            serve("tests.bench.stub_verifier:app", core=LOAD_CORE, environment=base, factory=False)
        )
        environment = {
            **base,
            "SIGNET_ENV": "production",
            "SIGNET_SECRET_KEY": secrets.token_urlsafe(32),
            "SIGNET_VERIFIER_URL": f"{verifier_url}/verify",
            "SIGNET_AUDIENCE": "https://app.example",
            "SIGNET_RATE_LIMIT_PER_ADDRESS": "0",
            "SIGNET_RATE_LIMIT_PER_IDENTITY": "0",
        }
        first = stack.enter_context(host(environment, workers=workers))
        second = stack.enter_context(host(environment, workers=workers))
        return cycles(first, second, count)


def row(label: str, delays: list[float]) -> str:
    milliseconds = sorted(delay * 1000 for delay in delays)
    p99 = milliseconds[min(len(milliseconds) - 1, round(0.99 * len(milliseconds)))]
    return (
        f"| {label} | {len(milliseconds)} | {statistics.median(milliseconds):.1f} "
        f"| {p99:.1f} | {milliseconds[-1]:.1f} | {'met' if p99 <= 100 else 'NOT met'} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--postgres-url", help="also two hosts on a fresh database on this server")
    arguments = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        sqlite = measure(
            f"sqlite+aiosqlite:///{directory}/revocation.db", workers=1, count=arguments.cycles
        )
        rows.append(row("SQLite: two processes on one file", sqlite))
    if arguments.postgres_url:
        with fresh_postgres(arguments.postgres_url) as url:
            postgres = measure(url, workers=2, count=arguments.cycles)
        rows.append(row("PostgreSQL: two hosts of two workers", postgres))
    print("| where | cycles | p50 ms | p99 ms | max ms | p99 <= 100 ms |")
    print("|---|---:|---:|---:|---:|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
