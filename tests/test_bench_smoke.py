"""The benchmark runs end to end (for a second a row); its figures are not asserted here."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench
REPO = Path(__file__).resolve().parent.parent


def bench(module: str, *arguments: str) -> str:
    finished = subprocess.run(
        [sys.executable, "-m", f"tests.bench.{module}", *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    return finished.stdout


def test_the_benchmark_runs_and_prints_its_table() -> None:
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (apt-get install wrk)")

    output = bench("run", "--duration", "1", "--connections", "4")

    rows = [line for line in output.splitlines() if line.startswith("| SQLite |")]
    assert [row.split("|")[2].strip() for row in rows] == [
        "GET /healthz",
        "GET /auth/me",
        "GET /auth/check",
        "POST /bench/verify-only (reference)",
        "POST /auth/login, returning user",
        "POST /auth/login, new users",
        "GET /ping (bare FastAPI)",
    ]


def test_the_ratios_bench_prints_the_figures_with_their_targets() -> None:
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (apt-get install wrk)")

    output = bench("ratios", "--duration", "1", "--connections", "4", "--runs", "1")

    figures = [line for line in output.splitlines() if line.startswith("SQLite: ")]
    assert [line.split(":")[1].strip() for line in figures] == [
        "/auth/me, allowed Origin ÷ bare FastAPI /ping",
        "/auth/me, no Origin ÷ bare FastAPI /ping",
        "/auth/check ÷ bare FastAPI /ping",
        "/auth/check?group=admins ÷ bare FastAPI /ping",
        "returning-user login ÷ bare Starlette login",
        "the same, rate limits off",
        "the same, no writes at all",
    ]
    assert all("target >= " in line for line in figures[:5])


def test_the_memory_soak_runs_and_prints_its_samples() -> None:
    output = bench("soak", "--sessions", "500")

    assert "500 sessions written" in output
    assert "| 500 |" in output
    assert "RSS grew" in output


def test_the_revocation_delay_runs_and_prints_its_row() -> None:
    output = bench("revocation", "--cycles", "5")

    (row,) = [line for line in output.splitlines() if line.startswith("| SQLite")]
    assert row.split("|")[2].strip() == "5"


def test_the_provider_deadline_runs_and_says_whether_it_held() -> None:
    output = bench("deadline", "--timeout", "0.5", "--logins", "2")

    assert "2 logins answered [503]" in output


def test_the_email_start_bench_runs_and_prints_both_kinds() -> None:
    output = bench("email_start", "--count", "5", "--warm-up", "1", "--report-only")

    rows = [line for line in output.splitlines() if line.startswith("| SQLite |")]
    assert [(row.split("|")[2].strip(), row.split("|")[3].strip()) for row in rows] == [
        ("known", "5"),
        ("unknown", "5"),
    ]
    assert "SQLite: medians (known - unknown) / unknown = " in output
