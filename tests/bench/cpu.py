"""What a run of the ratios bench measures of each row: req/s, and the server's CPU per request
(all its threads), which holds when wrk, sharing its core with other work, sets the pace."""

import os
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from tests.bench.run import Scenario, run_wrk


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


@dataclass(frozen=True)
class Row:
    """One row of one run: req/s, and the server's CPU time per request (all its threads)."""

    scenario: str
    requests_per_second: float
    cpu_us: float
    errors: int


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by every thread of process `pid`."""
    ticks = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with suppress(FileNotFoundError):  # a thread that ended meanwhile
            fields = (task / "stat").read_text().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def measure(server: Server, scenario: Scenario, *, duration: float, connections: int) -> Row:
    before = cpu_seconds(server.pid)
    report = run_wrk(server.url, scenario, duration=duration, connections=connections)
    used = cpu_seconds(server.pid) - before
    seconds = report["duration_us"] / 1e6
    requests = max(report["requests"], 1)
    return Row(scenario.name, requests / seconds, used / requests * 1e6, report["errors"])
