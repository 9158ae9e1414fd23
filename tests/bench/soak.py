"""Memory soak: one Signet worker checks many distinct sessions once each; its RSS must level off.

    .venv/bin/python -m tests.bench.soak [--sessions 100000] [--postgres-url URL]

Writes the sessions straight into a fresh database (SQLite, or a new database on the PostgreSQL
server at URL), serves Signet on them with one uvicorn worker pinned to core 0, and asks
`GET /auth/check` once for each session from this process (pinned to core 1), sampling the
worker's resident memory as it goes. Exits 1 if any check was not a 204.
"""

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from pydantic import SecretStr

from api.auth.tokens import TokenKind, issue_token
from api.config import Settings
from api.store.db import create_db_sessions, create_engine
from api.store.sessions import NewSession, insert_sessions
from api.store.users import upsert_users
from tests.bench.run import LOAD_CORE, SIGNET_CORE, fresh_postgres, migrate, serve

COOKIE = "__Host-signet_session"
BATCH = 1000
CONCURRENCY = 16
SAMPLES = 10


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def write_sessions(settings: Settings, count: int) -> list[str]:
    """`count` sessions of as many users, written directly; returns their cookies."""
    now = datetime.now(UTC)
    engine = create_engine(settings.database_url)
    tokens = []
    try:
        db_sessions = create_db_sessions(engine)
        for first in range(0, count, BATCH):
            emails = [f"soak-{n}@example.com" for n in range(first, min(first + BATCH, count))]
            async with db_sessions() as db:
                await upsert_users(db=db, logins=dict.fromkeys(emails, now))
                started = await insert_sessions(
                    db=db,
                    starts=[
                        NewSession(email=email, now=now, lifetime=settings.session_absolute_timeout)
                        for email in emails
                    ],
                )
                await db.commit()
            tokens += [
                issue_token(
                    settings=settings,
                    kind=TokenKind.COOKIE,
                    session_id=session.id,
                    started_at=now,
                    now=now,
                )
                for session in started
            ]
    finally:
        await engine.dispose()
    return tokens


async def check_each(url: str, tokens: list[str], pid: int) -> tuple[list[tuple[int, float]], int]:
    """Check every token once; returns (checks done, RSS MB) samples and how many failed."""
    every = max(1, len(tokens) // SAMPLES)
    samples = [(0, resident_mb(pid))]
    failed = 0
    queue: asyncio.Queue[str] = asyncio.Queue()
    for token in tokens:
        queue.put_nowait(token)
    done = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal done, failed
        while not queue.empty():
            token = queue.get_nowait()
            response = await client.get("/auth/check", headers={"cookie": f"{COOKIE}={token}"})
            failed += response.status_code != 204
            done += 1
            if done % every == 0:
                samples.append((done, resident_mb(pid)))

    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))
    return samples, failed


@contextmanager
def database(postgres_url: str | None) -> Iterator[str]:
    if postgres_url:
        with fresh_postgres(postgres_url) as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as directory:
        yield f"sqlite+aiosqlite:///{directory}/soak.db"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--postgres-url", help="soak on a fresh database on this server")
    arguments = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(LOAD_CORE)})
    with database(arguments.postgres_url) as database_url:
        base = {**os.environ, "SIGNET_DATABASE_URL": database_url}
        migrate(database_url)
        key = secrets.token_urlsafe(32)
        settings = Settings(
            env="production",
            database_url=database_url,
            secret_key=SecretStr(key),
            verifier_url="https://verifier.invalid/verify",
            audience="https://app.example",
        )
        started = time.monotonic()
        tokens = asyncio.run(write_sessions(settings, arguments.sessions))
        written_in = time.monotonic() - started
        environment = {
            **base,
            "SIGNET_ENV": "production",
            "SIGNET_SECRET_KEY": key,
            "SIGNET_VERIFIER_URL": "https://verifier.invalid/verify",
            "SIGNET_AUDIENCE": "https://app.example",
        }
        with serve(
            "api.app:create_app", core=SIGNET_CORE, environment=environment, factory=True
        ) as (url, server):
            started = time.monotonic()
            samples, failed = asyncio.run(check_each(url, tokens, server.pid))
            checked_in = time.monotonic() - started
    dialect = "PostgreSQL" if arguments.postgres_url else "SQLite"
    print(
        f"Memory soak on {dialect}: {len(tokens):,} sessions written in {written_in:.0f} s, each "
        f"checked once in {checked_in:.0f} s ({len(tokens) / checked_in:,.0f} checks/s, "
        f"{CONCURRENCY} at a time), {failed} failed.\n"
    )
    print("| checks done | worker RSS MB | growth MB |")
    print("|---:|---:|---:|")
    for done, rss in samples:
        print(f"| {done:,} | {rss:.1f} | {rss - samples[0][1]:+.1f} |")
    half = next(rss for done, rss in samples if done >= len(tokens) // 2)
    growth, second_half = samples[-1][1] - samples[0][1], samples[-1][1] - half
    verdict = "met" if growth <= 20 else "NOT met"
    print(
        f"\nRSS grew {growth:.1f} MB over the soak (target <= 20, {verdict}), "
        f"{second_half:.1f} MB over its second half."
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
