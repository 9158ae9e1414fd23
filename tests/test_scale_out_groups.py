"""Scale-out for groups (issue 22, item 8): `signet groups add` and `remove`, run as an operator
would (the real CLI, SIGNET_DATABASE_URL alone), reach every worker of two hosts that had the
session cached within the revocation bound, through the same LISTEN/NOTIFY. The deployment is
test_scale_out_hosts's, with a cache TTL far longer than the bound (the CLI takes about a second
to start, which the 2 s default would not outlast): only the announcement can change an answer."""

import math
import os
import statistics
import subprocess
import time

import httpx
import pytest

from tests.servers import REPO
from tests.test_scale_out_hosts import (  # noqa: F401  (fixtures, and helpers)
    ASKS_PER_HOST,
    REVOCATION_BOUND,
    SIGNET,
    Deploy,
    Host,
    client,
    cookie_header,
    delays_until,
    deploy,
    nginx_binary,
    postgres,
    sign_in,
)

pytestmark = pytest.mark.scale_out

EMAIL = "grace@example.com"
GROUP = "admins"
# Each cycle adds the group, then removes it: two changes, each timed on both hosts.
CYCLES = 10
# Far longer than the bound and than a cycle: a changed answer within the bound was told.
CACHE_TTL = "60"


def groups_seen(http: httpx.Client, host: Host, cookie: str) -> str:
    """What /auth/me on the host (asked directly, a new connection) says of the session's
    groups, or its status when it does not answer 200."""
    answer = http.get(f"{host.url}/auth/me", headers=cookie_header(cookie))
    if answer.status_code != 200:
        return f"answered {answer.status_code}"
    return f"groups {answer.json()['groups']}"


def operator(database_url: str, *arguments: str) -> float:
    """Run `signet ARGUMENTS…` with SIGNET_DATABASE_URL alone of Signet's settings, as an
    operator on another machine would; returns the moment it exited (time.monotonic)."""
    only_the_database = {
        **{key: value for key, value in os.environ.items() if not key.startswith("SIGNET_")},
        "SIGNET_DATABASE_URL": database_url,
    }
    done = subprocess.run(
        [SIGNET, *arguments], cwd=REPO, env=only_the_database, capture_output=True, text=True
    )
    exited = time.monotonic()
    assert done.returncode == 0, f"signet {' '.join(arguments)}: {done.stderr}"
    return exited


def test_a_group_change_by_the_cli_reaches_every_worker_of_both_hosts_at_once(
    deploy: Deploy,  # noqa: F811  (the fixture imported above)
) -> None:
    deployment = deploy(
        {"SIGNET_RATE_LIMIT_PER_ADDRESS": "100000", "SIGNET_SESSION_CACHE_TTL": CACHE_TTL}
    )
    hosts = deployment.hosts
    without, with_group = "groups []", f"groups {[GROUP]}"
    delays: list[float] = []
    with client() as http:
        cookie = sign_in(http, hosts[0].front, EMAIL)
        for cycle in range(CYCLES):
            for action, old, new in (("add", without, with_group), ("remove", with_group, without)):
                # Right before the change every host has the session cached (TTL 2 s) with the
                # old groups: only the announcement can change its answer within the bound.
                for host in hosts:
                    seen = [groups_seen(http, host, cookie) for _ in range(ASKS_PER_HOST)]
                    assert seen == [old] * ASKS_PER_HOST, (cycle, action, host.name)
                exited = operator(deployment.database_url, "groups", action, EMAIL, GROUP)
                delays += delays_until(
                    hosts,
                    exited,
                    lambda host, _count: groups_seen(http, host, cookie),
                    old=old,
                    new=new,
                    what=f"`signet groups {action}` exited",
                )
        # Once (it takes REVOCATION_BOUND, well within the cache TTL): no worker missed it.
        while time.monotonic() < exited + REVOCATION_BOUND:
            time.sleep(0.01)  # waiting for a known instant
        for host in hosts:
            seen = [groups_seen(http, host, cookie) for _ in range(ASKS_PER_HOST)]
            assert seen == [without] * ASKS_PER_HOST, host.name
    ms = sorted(delay * 1000 for delay in delays)
    p99 = ms[min(len(ms) - 1, math.ceil(0.99 * len(ms)) - 1)]
    print(
        f"group change reaches every host: {len(ms)} delays over {2 * CYCLES} changes: "
        f"min {ms[0]:.1f} ms, median {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms, "
        f"max {ms[-1]:.1f} ms"
    )
    assert max(delays) <= REVOCATION_BOUND
