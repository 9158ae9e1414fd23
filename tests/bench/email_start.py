"""Whether asking for an emailed code takes as long for a known email as for an unknown one.

    .venv/bin/python -m tests.bench.email_start [--count 200] [--warm-up 20] [--seed 1]
        [--postgres-url URL] [--report-only]

Serves Signet (one uvicorn worker, production settings, only the email provider, every rate limit
off) on a fresh SQLite file, then on a fresh PostgreSQL database when --postgres-url is given,
with its mail going to an SMTP sink on loopback in this process (tests/smtp_server.py). Signs
`count` + `warm-up` users in through the email flow itself (start, the code from the sink,
/auth/email/verify), so that they are in the users table; then asks POST /auth/email/start for
`count` of them and for `count` emails nobody signed in with, one request at a time over one
connection. The two kinds are interleaved in pairs, which of a pair goes first drawn with a fixed
seed, so drift touches both alike; `warm-up` pairs go first and are not counted.

Prints each kind's median and p90, and the difference of the medians (known - unknown) / unknown.
Exits 1 if any answer differed in status or shape between the kinds (or a message did not
arrive), or, unless --report-only, if the medians differ by 5 % or more.
"""

import argparse
import asyncio
import os
import platform
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass

import httpx
from sqlalchemy import func, select
from sqlmodel import col

from api.store.db import create_engine
from api.store.tables import User
from tests.bench.run import LOAD_CORE, SIGNET_CORE, fresh_postgres, migrate, serve
from tests.mail import code_of
from tests.smtp_server import SmtpSink

TARGET = 0.05
KINDS = ("known", "unknown")
PUBLIC_URL = "https://signet.example"


@dataclass(frozen=True)
class Result:
    database: str
    # Seconds each counted start took, by kind.
    seconds: dict[str, list[float]]

    def median_ms(self, kind: str) -> float:
        return statistics.median(self.seconds[kind]) * 1000

    def p90_ms(self, kind: str) -> float:
        return statistics.quantiles(self.seconds[kind], n=10, method="inclusive")[-1] * 1000

    @property
    def difference(self) -> float:
        """(known - unknown) / unknown, of the medians."""
        return self.median_ms("known") / self.median_ms("unknown") - 1


class Starter:
    """POST /auth/email/start over one connection: each answer checked (202, for the email
    asked), its shape noted by kind, and its message looked for in the sink."""

    def __init__(self, client: httpx.Client, sink: SmtpSink) -> None:
        self.client = client
        self.sink = sink
        self.shapes: dict[str, set[tuple[int, tuple[str, ...], object]]] = {k: set() for k in KINDS}

    def start(self, email: str, kind: str) -> float:
        """Ask for a code for `email`; returns the seconds the answer took."""
        sent = len(self.sink.messages)
        began = time.perf_counter()
        response = self.client.post("/auth/email/start", json={"email": email})
        took = time.perf_counter() - began
        if response.status_code != 202:
            raise SystemExit(f"start for a {kind} email answered {response.status_code}")
        body = response.json()
        if body.get("email") != email:
            raise SystemExit(f"start for a {kind} email answered for {body.get('email')!r}")
        shape = (response.status_code, tuple(sorted(body)), body.get("expires_in"))
        self.shapes[kind].add(shape)
        if len(self.sink.messages) != sent + 1 or self.sink.recipients[-1] != [email]:
            raise SystemExit(f"start for a {kind} email did not send it one message")
        return took

    def sign_in(self, email: str) -> None:
        """Make `email` a known user: a code, and the code back to /auth/email/verify."""
        self.start(email, "known")
        code = code_of(self.sink.messages[-1])
        response = self.client.post("/auth/email/verify", json={"email": email, "code": code})
        if response.status_code != 200 or response.json().get("email") != email:
            raise SystemExit(f"signing {email} in answered {response.status_code}")
        # The next sign-in starts without a session of its own to replace.
        self.client.cookies.clear()


def emails(tag: str, count: int) -> list[str]:
    """`count` distinct addresses, all of one length."""
    run = uuid.uuid4().hex[:8]
    return [f"{tag}-{run}-{index:05d}@example.com" for index in range(count)]


async def users_among(database_url: str, addresses: list[str]) -> int:
    """How many of `addresses` are in the users table."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            statement = select(func.count()).where(col(User.email).in_(addresses))
            return int(await connection.scalar(statement) or 0)
    finally:
        await engine.dispose()


def measure(
    label: str, database_url: str, sink: SmtpSink, *, count: int, warm_up: int, seed: int
) -> Result:
    migrate(database_url)
    environment = {
        **os.environ,
        "SIGNET_DATABASE_URL": database_url,
        "SIGNET_ENV": "production",
        "SIGNET_SECRET_KEY": secrets.token_urlsafe(32),
        "SIGNET_PROVIDERS": "email",
        "SIGNET_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
        "SIGNET_EMAIL_FROM": "no-reply@signet.example",
        "SIGNET_PUBLIC_URL": PUBLIC_URL,
        # One client asks hundreds of times a minute: that is the measurement.
        "SIGNET_RATE_LIMIT_PER_ADDRESS": "0",
        "SIGNET_RATE_LIMIT_PER_IDENTITY": "0",
        "SIGNET_RATE_LIMIT_EMAIL_PER_ADDRESS_AND_EMAIL": "0",
        "SIGNET_RATE_LIMIT_EMAIL_PER_EMAIL": "0",
        "SIGNET_RATE_LIMIT_EMAIL_PER_ADDRESS": "0",
    }
    known, unknown = emails("kn", count + warm_up), emails("un", count + warm_up)
    order = random.Random(seed)  # noqa: S311 (a fixed, repeatable order, not a secret)
    seconds: dict[str, list[float]] = {kind: [] for kind in KINDS}
    with (
        serve("api.app:create_app", core=SIGNET_CORE, environment=environment, factory=True) as (
            url,
            _,
        ),
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        starter = Starter(client, sink)
        for email in known:
            starter.sign_in(email)
        starter.shapes["known"].clear()  # the sign-ins' own starts are not compared
        for index in range(count + warm_up):
            pair = [("known", known[index]), ("unknown", unknown[index])]
            order.shuffle(pair)
            for kind, email in pair:
                took = starter.start(email, kind)
                if index >= warm_up:
                    seconds[kind].append(took)
    if len(starter.shapes["known"] | starter.shapes["unknown"]) != 1:
        raise SystemExit(f"{label}: the answers differ by kind: {starter.shapes}")
    known_users = asyncio.run(users_among(database_url, known))
    unknown_users = asyncio.run(users_among(database_url, unknown))
    if (known_users, unknown_users) != (len(known), 0):
        raise SystemExit(
            f"{label}: {known_users} of {len(known)} known emails and {unknown_users} of "
            f"{len(unknown)} unknown ones are users"
        )
    return Result(label, seconds)


def table(results: list[Result]) -> str:
    lines = [
        "| database | email | starts | p50 ms | p90 ms |",
        "|---|---|---:|---:|---:|",
    ]
    for result in results:
        for kind in KINDS:
            lines.append(
                f"| {result.database} | {kind} | {len(result.seconds[kind])} "
                f"| {result.median_ms(kind):.2f} | {result.p90_ms(kind):.2f} |"
            )
    return "\n".join(lines)


def verdict(result: Result) -> str:
    met = abs(result.difference) < TARGET
    return (
        f"{result.database}: medians (known - unknown) / unknown = {result.difference:+.1%} "
        f"(target |difference| < {TARGET:.0%}, {'met' if met else 'NOT met'})"
    )


def pin_this_process() -> str:
    """Keep this process (the client and the sink) off the server's core, as run.py keeps wrk."""
    if shutil.which("taskset") and hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {int(LOAD_CORE)})
        return f"server on core {SIGNET_CORE}, client and SMTP sink on core {LOAD_CORE}"
    return "not pinned"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="starts counted per kind")
    parser.add_argument("--warm-up", type=int, default=20, help="pairs of starts not counted")
    parser.add_argument("--seed", type=int, default=1, help="which of each pair goes first")
    parser.add_argument("--postgres-url", help="also run on a fresh database on this server")
    parser.add_argument("--report-only", action="store_true", help="exit 0 whatever the difference")
    arguments = parser.parse_args()
    if arguments.count < 2:
        parser.error("--count must be at least 2")
    pinning = pin_this_process()
    options = {"count": arguments.count, "warm_up": arguments.warm_up, "seed": arguments.seed}
    results = []
    with SmtpSink() as sink:
        with tempfile.TemporaryDirectory() as directory:
            sqlite_url = f"sqlite+aiosqlite:///{directory}/email-start.db"
            results.append(measure("SQLite", sqlite_url, sink, **options))
        if arguments.postgres_url:
            with fresh_postgres(arguments.postgres_url) as postgres_url:
                results.append(measure("PostgreSQL", postgres_url, sink, **options))

    cpu = platform.processor() or platform.machine()
    print(
        f"POST /auth/email/start, known against unknown emails: {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}, {arguments.count} starts a kind after "
        f"{arguments.warm_up} pairs of warm-up, one at a time, pairs in seeded order "
        f"(seed {arguments.seed}), {pinning}; every answer 202 with the same keys and "
        "expires_in.\n"
    )
    print(table(results))
    print()
    for result in results:
        print(verdict(result))
    missed = [result for result in results if abs(result.difference) >= TARGET]
    return 1 if missed and not arguments.report_only else 0


if __name__ == "__main__":
    sys.exit(main())
