"""Benchmark Signet on loopback with wrk, each row against /healthz of the same server.

    .venv/bin/python -m tests.bench.run [--duration 10] [--connections 32] [--postgres-url URL]

Starts the stub verifier (tests/bench/stub_verifier.py) and Signet (one uvicorn worker, a fresh
SQLite file; then a fresh PostgreSQL database when --postgres-url is given), each pinned to its
own core when `taskset` exists, drives them with wrk and prints one markdown table. Exits 1 if
any request failed, 2 if wrk is missing.
"""

import argparse
import asyncio
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from tests.databases import run_on_server
from tests.servers import free_port

REPO = Path(__file__).resolve().parents[2]
SIGNET_CORE, LOAD_CORE = "0", "1"
RETURNING_USER = "returning@example.com"
COOKIE = "__Host-signet_session"
BARE_FASTAPI = "GET /ping (bare FastAPI)"

# Every scenario ends by printing one machine-readable line.
REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""
JSON_POST = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
"""


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    script: str


def scenarios(cookie: str) -> list[Scenario]:
    returning = json.dumps({"assertion": RETURNING_USER})
    new_users = JSON_POST + (
        'local prefix = "' + uuid.uuid4().hex[:8] + '"\n'
        "local n = 0\n"
        "request = function()\n"
        "  n = n + 1\n"
        "  local body = '{\"assertion\": \"new-' .. prefix .. '-' .. n .. '@example.com\"}'\n"
        "  return wrk.format(nil, nil, nil, body)\n"
        "end\n"
    )
    return [
        Scenario("GET /healthz", "/healthz", ""),
        Scenario("GET /auth/me", "/auth/me", f'wrk.headers["Cookie"] = "{COOKIE}={cookie}"\n'),
        Scenario(
            "GET /auth/check", "/auth/check", f'wrk.headers["Cookie"] = "{COOKIE}={cookie}"\n'
        ),
        Scenario(
            "POST /bench/verify-only (reference)",
            "/bench/verify-only",
            JSON_POST + f"wrk.body = {json.dumps(returning)}\n",
        ),
        Scenario(
            "POST /auth/login, returning user",
            "/auth/login",
            JSON_POST + f"wrk.body = {json.dumps(returning)}\n",
        ),
        Scenario("POST /auth/login, new users", "/auth/login", new_users),
    ]


@dataclass(frozen=True)
class Result:
    scenario: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    peak_rss_mb: float


def pinned(core: str, command: list[str]) -> list[str]:
    return ["taskset", "-c", core, *command] if shutil.which("taskset") else command


@contextmanager
def serve(
    target: str, *, core: str, environment: dict[str, str], factory: bool
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A uvicorn process on a free loopback port, pinned to `core`; yields its URL and process."""
    # A port, not a socket handed over with --fd: uvicorn takes such a socket for a UNIX one and
    # leaves Nagle's algorithm on, which adds 40 ms to every response.
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port)]
    # As `signet serve` runs it: Signet writes its own access line.
    command += ["--no-access-log", "--no-proxy-headers", "--no-server-header"]
    command += ["--log-level", "warning"] + (["--factory"] if factory else [])
    with running(pinned(core, command), port=port, environment=environment) as process:
        yield f"http://127.0.0.1:{port}", process


@contextmanager
def running(
    command: list[str], *, port: int, environment: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    """`command`, a server listening on `port`, until it answers; its output goes to a log file
    (named if anything fails), not into the table."""
    log = tempfile.NamedTemporaryFile(prefix="signet-bench-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        command, cwd=REPO, env=environment, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}", process)
        yield process
    except BaseException:
        print(f"server log: {log.name}", file=sys.stderr)
        raise
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server at {url} exited with {process.returncode}")
        try:
            httpx.get(f"{url}/healthz", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)  # polling a condition, bounded by the deadline
    raise SystemExit(f"server at {url} did not start")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_wrk(url: str, scenario: Scenario, *, duration: float, connections: int) -> dict[str, int]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(scenario.script + REPORT)
        script.flush()
        command = ["wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--latency"]
        command += ["-s", script.name, url + scenario.path]
        output = subprocess.run(
            pinned(LOAD_CORE, command), capture_output=True, text=True, check=True
        ).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    report: dict[str, int] = json.loads(line.removeprefix("BENCH "))
    return report


def measure(url: str, scenario: Scenario, pid: int, *, duration: float, connections: int) -> Result:
    report = run_wrk(url, scenario, duration=duration, connections=connections)
    return Result(
        scenario=scenario.name,
        requests_per_second=report["requests"] / (report["duration_us"] / 1e6),
        p50_ms=report["p50_us"] / 1000,
        p99_ms=report["p99_us"] / 1000,
        errors=report["errors"],
        peak_rss_mb=peak_rss_mb(pid),
    )


def bare_fastapi(*, duration: float, connections: int) -> Result:
    """GET /ping of a bare FastAPI app, served as Signet is: the framework's ceiling."""
    with serve(
        "tests.bench.ping:app", core=SIGNET_CORE, environment=dict(os.environ), factory=False
    ) as (url, server):
        ping = Scenario(BARE_FASTAPI, "/ping", "")
        run_wrk(url, ping, duration=1, connections=connections)  # warm-up
        return measure(url, ping, server.pid, duration=duration, connections=connections)


def migrate(database_url: str) -> None:
    """Bring a fresh database to the newest migration."""
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=REPO,
        env={**os.environ, "SIGNET_ENV": "development", "SIGNET_DATABASE_URL": database_url},
        check=True,
        capture_output=True,
    )


def bench_database(database_url: str, *, duration: float, connections: int) -> list[Result]:
    """Migrate a fresh database, serve Signet on it and run every scenario, then the bare
    FastAPI app in the same conditions."""
    base = {**os.environ, "SIGNET_DATABASE_URL": database_url}
    migrate(database_url)
    with serve(
        "tests.bench.stub_verifier:app", core=LOAD_CORE, environment=base, factory=False
    ) as (
        verifier_url,
        _,
    ):
        environment = {
            **base,
            "SIGNET_ENV": "production",
            "SIGNET_SECRET_KEY": secrets.token_urlsafe(32),
            "SIGNET_VERIFIER_URL": f"{verifier_url}/verify",
            "SIGNET_AUDIENCE": "https://app.example",
            # One address signs in hundreds of times a second here: that is the measurement.
            "SIGNET_RATE_LIMIT_PER_ADDRESS": "0",
            "SIGNET_RATE_LIMIT_PER_IDENTITY": "0",
        }
        with serve(
            "tests.bench.app:create_bench_app",
            core=SIGNET_CORE,
            environment=environment,
            factory=True,
        ) as (url, server):
            login = httpx.post(f"{url}/auth/login", json={"assertion": RETURNING_USER})
            login.raise_for_status()
            cookie = login.cookies[COOKIE]
            run_wrk(url, Scenario("warm-up", "/healthz", ""), duration=1, connections=connections)
            results = [
                measure(url, scenario, server.pid, duration=duration, connections=connections)
                for scenario in scenarios(cookie)
            ]
    return [*results, bare_fastapi(duration=duration, connections=connections)]


@contextmanager
def fresh_postgres(server_url: str) -> Iterator[str]:
    name = f"signet_bench_{uuid.uuid4().hex[:12]}"
    asyncio.run(run_on_server(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(run_on_server(server_url, f'DROP DATABASE "{name}" WITH (FORCE)'))


def table(rows: list[tuple[str, list[Result]]]) -> str:
    lines = [
        "| database | request | req/s | p50 ms | p99 ms | x /healthz | errors | peak RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for database, results in rows:
        ceiling = results[0].requests_per_second
        for result in results:
            lines.append(
                f"| {database} | {result.scenario} | {result.requests_per_second:,.0f} "
                f"| {result.p50_ms:.2f} | {result.p99_ms:.2f} "
                f"| {result.requests_per_second / ceiling:.2f} | {result.errors} "
                f"| {result.peak_rss_mb:.1f} |"
            )
    return "\n".join(lines)


def verdicts(database: str, results: list[Result]) -> str:
    """The issue's three targets, as ratios from this run."""
    by_name = {result.scenario: result for result in results}
    ceiling = by_name["GET /healthz"].requests_per_second
    me = by_name["GET /auth/me"].requests_per_second / ceiling
    login = (
        by_name["POST /auth/login, returning user"].requests_per_second
        / by_name["POST /bench/verify-only (reference)"].requests_per_second
    )
    rss = max(result.peak_rss_mb for result in results if result.scenario != BARE_FASTAPI)
    ping = by_name[BARE_FASTAPI].requests_per_second
    check = by_name["GET /auth/check"].requests_per_second / ping
    me_ping = by_name["GET /auth/me"].requests_per_second / ping

    def mark(ok: bool) -> str:
        return "met" if ok else "NOT met"

    return (
        f"{database}: /auth/check {check:.2f} x bare FastAPI /ping "
        f"(target >= 1.50, {mark(check >= 1.5)}); "
        f"/auth/me {me_ping:.2f} x bare FastAPI /ping (target >= 0.80, {mark(me_ping >= 0.8)}); "
        f"/auth/me {me:.2f} x /healthz (target >= 0.80, {mark(me >= 0.8)}); "
        f"returning-user login {login:.2f} x the verifier-only reference "
        f"(target >= 1.00, {mark(login >= 1.0)}); "
        f"peak RSS {rss:.1f} MB (target <= 80, {mark(rss <= 80)})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per request kind")
    parser.add_argument("--connections", type=int, default=32, help="open connections")
    parser.add_argument("--postgres-url", help="also run on a fresh database on this server")
    arguments = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2

    rows = []
    with tempfile.TemporaryDirectory() as directory:
        sqlite_url = f"sqlite+aiosqlite:///{directory}/bench.db"
        rows.append(
            (
                "SQLite",
                bench_database(
                    sqlite_url, duration=arguments.duration, connections=arguments.connections
                ),
            )
        )
    if arguments.postgres_url:
        with fresh_postgres(arguments.postgres_url) as postgres_url:
            rows.append(
                (
                    "PostgreSQL",
                    bench_database(
                        postgres_url,
                        duration=arguments.duration,
                        connections=arguments.connections,
                    ),
                )
            )

    cpu = platform.processor() or platform.machine()
    pinning = "pinned with taskset" if shutil.which("taskset") else "not pinned (no taskset)"
    print(
        f"Signet benchmark: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"{arguments.duration:g} s and {arguments.connections} connections per row, "
        f"server on core {SIGNET_CORE}, wrk and stub verifier on core {LOAD_CORE}, {pinning}.\n"
    )
    print(table(rows))
    print()
    for database, results in rows:
        print(verdicts(database, results))
    failed = sum(result.errors for _, results in rows for result in results)
    if failed:
        print(f"\n{failed} requests failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
