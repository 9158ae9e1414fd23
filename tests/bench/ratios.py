"""The front door and the login against bare frameworks (issue 21): four figures, each the
median of three runs, with their targets.

    .venv/bin/python -m tests.bench.ratios [--duration 10] [--connections 32] [--runs 3]
        [--postgres-url URL]

Serves at once, each a uvicorn worker pinned to core 0 as `signet serve` runs it: Signet
(production settings, access log on, rate limits on but too high to refuse anyone, a SPA's
origin allowed); the same with the limits off, and with no writes at all (tests/bench/app.py);
bare FastAPI's `/ping` (tests/bench/ping.py) and a bare Starlette login (bare_login.py). The
stub verifier and wrk run on core 1. Each run measures every row in turn; a figure is a row's
req/s over its baseline's in the same run. The GETs carry what a browser sends, its headers
and the session cookie, to `/ping` too (parsing them costs both sides alike), and an Origin on
the cross-origin row. Exits 1 if any request failed or was refused, 2 if wrk is missing.
"""

import argparse
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import httpx

from tests.bench.cpu import Row, Server, measure
from tests.bench.run import (
    BARE_FASTAPI,
    COOKIE,
    JSON_POST,
    LOAD_CORE,
    RETURNING_USER,
    SIGNET_CORE,
    Scenario,
    fresh_postgres,
    migrate,
    run_wrk,
    serve,
)

SPA_ORIGIN = "https://spa.example"
ADMINS_ONLY = "GET /auth/check?group=admins"
BARE_STARLETTE = "POST /login (bare Starlette)"
LOGIN = "POST /auth/login, returning user"
LOGIN_NO_LIMITS = "POST /auth/login, returning user, rate limits off"
LOGIN_NO_WRITES = "POST /auth/login, returning user, no writes (limits off, no session row)"
# A credentialed fetch() from Chromium on the SPA's page, but the Origin and the cookie.
BROWSER = {
    "Accept": "*/*",
    "Accept-Language": "en-GB,en;q=0.9",
    "Accept-Encoding": "gzip, deflate, br, zstd",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Referer": f"{SPA_ORIGIN}/",
    "Sec-Fetch-Dest": "empty",
    "Sec-Fetch-Mode": "cors",
}


@dataclass(frozen=True)
class Figure:
    """`row` ÷ `baseline` (req/s, same run), and the target its median must reach."""

    name: str
    row: str
    baseline: str
    target: float


FIGURES = [
    Figure(
        "/auth/me, allowed Origin ÷ bare FastAPI /ping", "GET /auth/me, Origin", BARE_FASTAPI, 1.5
    ),
    Figure("/auth/me, no Origin ÷ bare FastAPI /ping", "GET /auth/me", BARE_FASTAPI, 2.0),
    Figure("/auth/check ÷ bare FastAPI /ping", "GET /auth/check", BARE_FASTAPI, 2.0),
    Figure("/auth/check?group=admins ÷ bare FastAPI /ping", ADMINS_ONLY, BARE_FASTAPI, 2.0),
    Figure("returning-user login ÷ bare Starlette login", LOGIN, BARE_STARLETTE, 0.9),
]
# Shown beside the figures, without a target: the login without the writes it must make.
WITHOUT = [
    Figure("the same, rate limits off", LOGIN_NO_LIMITS, BARE_STARLETTE, 0.9),
    Figure("the same, no writes at all", LOGIN_NO_WRITES, BARE_STARLETTE, 0.9),
]


def browser_script(cookie: str, **headers: str) -> str:
    sent = {**BROWSER, "Cookie": f"{COOKIE}={cookie}", **headers}
    return "".join(f"wrk.headers[{name!r}] = {value!r}\n" for name, value in sent.items())


def login_script() -> str:
    return JSON_POST + f'wrk.body = \'{{"assertion": "{RETURNING_USER}"}}\'\n'


@contextmanager
def servers(database_url: str) -> Iterator[dict[str, Server]]:
    """Every server a run asks, up at once: the stub verifier on core 1, the rest on core 0."""
    base = {**os.environ, "SIGNET_DATABASE_URL": database_url}
    migrate(database_url)
    with ExitStack() as stack:
        verifier_url, _ = stack.enter_context(
            serve("tests.bench.stub_verifier:app", core=LOAD_CORE, environment=base, factory=False)
        )
        signet = {
            **base,
            "SIGNET_ENV": "production",
            "SIGNET_SECRET_KEY": secrets.token_urlsafe(32),
            "SIGNET_VERIFIER_URL": f"{verifier_url}/verify",
            "SIGNET_AUDIENCE": "https://app.example",
            "SIGNET_ALLOWED_ORIGINS": SPA_ORIGIN,
            # Counted as the contract requires, but one address signs in hundreds of times a
            # second here: no attempt may be refused.
            "SIGNET_RATE_LIMIT_PER_ADDRESS": "1000000000",
            "SIGNET_RATE_LIMIT_PER_IDENTITY": "1000000000",
        }
        unlimited = {
            **signet,
            "SIGNET_RATE_LIMIT_PER_ADDRESS": "0",
            "SIGNET_RATE_LIMIT_PER_IDENTITY": "0",
        }
        unwritten = {**unlimited, "BENCH_WITHOUT_WRITES": "1"}
        found = {}
        for name, target, environment, factory in [
            ("signet", "tests.bench.app:create_bench_app", signet, True),
            ("unlimited", "tests.bench.app:create_bench_app", unlimited, True),
            ("unwritten", "tests.bench.app:create_bench_app", unwritten, True),
            ("fastapi", "tests.bench.ping:app", base, False),
            ("starlette", "tests.bench.bare_login:app", signet, False),
        ]:
            url, process = stack.enter_context(
                serve(target, core=SIGNET_CORE, environment=environment, factory=factory)
            )
            found[name] = Server(url, process.pid)
        yield found


def run_once(
    found: dict[str, Server], cookie: str, *, duration: float, connections: int
) -> list[Row]:
    """Every row once, in turn."""
    same_origin = browser_script(cookie, **{"Sec-Fetch-Site": "same-origin"})
    rows = [
        ("fastapi", Scenario(BARE_FASTAPI, "/ping", same_origin)),
        (
            "signet",
            Scenario(
                "GET /auth/me, Origin",
                "/auth/me",
                browser_script(cookie, Origin=SPA_ORIGIN, **{"Sec-Fetch-Site": "same-site"}),
            ),
        ),
        ("signet", Scenario("GET /auth/me", "/auth/me", same_origin)),
        ("signet", Scenario("GET /auth/check", "/auth/check", same_origin)),
        ("signet", Scenario(ADMINS_ONLY, "/auth/check?group=admins", same_origin)),
        ("starlette", Scenario(BARE_STARLETTE, "/login", login_script())),
        ("signet", Scenario(LOGIN, "/auth/login", login_script())),
        ("unlimited", Scenario(LOGIN_NO_LIMITS, "/auth/login", login_script())),
        ("unwritten", Scenario(LOGIN_NO_WRITES, "/auth/login", login_script())),
    ]
    return [
        measure(found[server], scenario, duration=duration, connections=connections)
        for server, scenario in rows
    ]


def bench_database(
    database_url: str, *, runs: int, duration: float, connections: int
) -> list[list[Row]]:
    with servers(database_url) as found:
        login = httpx.post(f"{found['signet'].url}/auth/login", json={"assertion": RETURNING_USER})
        login.raise_for_status()
        cookie = login.cookies[COOKIE]
        # As an operator would: the returning user is an admin, for the gateway rule's row.
        command = [sys.executable, "-m", "api.cli", "groups", "add", RETURNING_USER, "admins"]
        subprocess.run(command, env={**os.environ, "SIGNET_DATABASE_URL": database_url}, check=True)
        for name, server in found.items():  # warm-up: imports, pools, the first connections
            path = {"starlette": "/login", "fastapi": "/ping"}.get(name, "/auth/login")
            warm = Scenario("warm-up", path, "" if name == "fastapi" else login_script())
            run_wrk(server.url, warm, duration=1, connections=connections)
        return [
            run_once(found, cookie, duration=duration, connections=connections) for _ in range(runs)
        ]


def ratios(figure: Figure, results: list[list[Row]]) -> tuple[list[float], list[float]]:
    """Per run: the row's req/s over the baseline's, and the baseline's CPU per request over
    the row's (the same ratio were the server alone on its core and always busy)."""
    rates, cpu = [], []
    for run in results:
        by_name = {row.scenario: row for row in run}
        row, baseline = by_name[figure.row], by_name[figure.baseline]
        rates.append(row.requests_per_second / baseline.requests_per_second)
        cpu.append(baseline.cpu_us / row.cpu_us)
    return rates, cpu


def report(database: str, results: list[list[Row]]) -> str:
    runs = range(1, len(results) + 1)
    lines = [
        "| database | request | "
        + " | ".join(f"run {n} req/s | run {n} CPU µs" for n in runs)
        + " | errors |",
        "|---|---|" + "---:|" * (2 * len(results) + 1),
    ]
    for position, name in enumerate(row.scenario for row in results[0]):
        cells = " | ".join(
            f"{run[position].requests_per_second:,.0f} | {run[position].cpu_us:,.0f}"
            for run in results
        )
        errors = sum(run[position].errors for run in results)
        lines.append(f"| {database} | {name} | {cells} | {errors} |")
    lines.append("")
    for figure in [*FIGURES, *WITHOUT]:
        rates, cpu = ratios(figure, results)
        median = statistics.median(rates)
        each = ", ".join(f"{value:.2f}" for value in rates)
        verdict = (
            f"target >= {figure.target:.2f}, {'met' if median >= figure.target else 'NOT met'}"
        )
        if figure in WITHOUT:
            verdict = f"no target; the login's target is >= {figure.target:.2f}"
        lines.append(
            f"{database}: {figure.name}: {median:.2f} (runs {each}; {verdict}; "
            f"by CPU per request {statistics.median(cpu):.2f})"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per row and run")
    parser.add_argument("--connections", type=int, default=32, help="open connections")
    parser.add_argument("--runs", type=int, default=3, help="runs; each figure is their median")
    parser.add_argument("--postgres-url", help="also run on a fresh database on this server")
    arguments = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    options = {name: getattr(arguments, name) for name in ("runs", "duration", "connections")}
    reports = []
    with tempfile.TemporaryDirectory() as directory:
        results = bench_database(f"sqlite+aiosqlite:///{directory}/bench.db", **options)
        reports.append(("SQLite", results))
    if arguments.postgres_url:
        with fresh_postgres(arguments.postgres_url) as postgres_url:
            reports.append(("PostgreSQL", bench_database(postgres_url, **options)))
    cpu = platform.processor() or platform.machine()
    print(
        f"Signet against bare frameworks: {os.cpu_count()} cores ({cpu}), Python "
        f"{platform.python_version()}, {arguments.runs} runs of {arguments.duration:g} s and "
        f"{arguments.connections} connections per row, servers on core {SIGNET_CORE}, wrk and "
        f"the stub verifier on core {LOAD_CORE}.\n"
    )
    for database, results in reports:
        print(report(database, results))
        print()
    failed = sum(row.errors for _, results in reports for run in results for row in run)
    if failed:
        print(f"{failed} requests failed or were refused", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
