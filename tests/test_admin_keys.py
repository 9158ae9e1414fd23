"""Admin keys as operators use them (issue 23): `signet admin-keys create|list|revoke` with
SIGNET_DATABASE_URL alone, the key shown once and refused once revoked; the admin API takes
`Authorization: Bearer` with a live key only, and limits an address's failed keys."""

import asyncio
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import httpx
import pytest
from fastapi import FastAPI

from api.auth.events import CLI
from api.cli import EXIT_NO_SUCH_USER, EXIT_OK, EXIT_USAGE
from api.services import services_of
from api.testing import log_in_as
from tests.admin_calls import assert_problem, events_of
from tests.apps import running, serving, suite_settings
from tests.test_cli import signet


@pytest.fixture
def only_the_database(tmp_path: Path) -> dict[str, str]:
    """A migrated SQLite database, as the one variable the commands are given."""
    environment = {"SIGNET_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}"}
    migrated = signet("migrate", environment=environment)
    assert migrated.returncode == EXIT_OK, migrated.stderr
    return environment


async def test_a_key_made_by_the_command_works_until_the_command_revokes_it(
    only_the_database: dict[str, str],
) -> None:
    created = signet("admin-keys", "create", "deploy bot", environment=only_the_database)
    assert created.returncode == EXIT_OK, created.stderr
    key = created.stdout.strip()
    assert key.startswith("sk_")
    assert len(key) >= 3 + 43  # 32 bytes, base64url
    assert "shown this once" in created.stderr
    listed = signet("admin-keys", "list", environment=only_the_database)
    header, row = listed.stdout.splitlines()
    assert header == "id\tname\tcreated_at\tlast_used\trevoked_at"
    key_id, name, _created, last_used, revoked = row.split("\t")
    assert (name, last_used, revoked) == ("deploy bot", "-", "-")
    assert key not in listed.stdout

    settings = suite_settings(only_the_database["SIGNET_DATABASE_URL"])
    async with serving(settings) as client:
        bearer = {"authorization": f"Bearer {key}"}
        assert (await client.get("/admin/v1/users", headers=bearer)).status_code == 200
        # The commands run in a thread: waiting for them on the app's own loop would stop it
        # midway through a transaction of its own, and the command would wait for its lock.
        listing = await asyncio.to_thread(
            signet, "admin-keys", "list", environment=only_the_database
        )
        assert listing.stdout.splitlines()[1].split("\t")[3] != "-"

        revoked_now = await asyncio.to_thread(
            signet, "admin-keys", "revoke", key_id, environment=only_the_database
        )

        assert revoked_now.returncode == EXIT_OK, revoked_now.stderr
        assert_problem(
            await client.get("/admin/v1/users", headers=bearer), 401, "admin-key-required"
        )
    again = signet("admin-keys", "revoke", key_id, environment=only_the_database)
    assert again.returncode == EXIT_NO_SUCH_USER
    assert f"signet: no live admin key {key_id}" in again.stderr
    assert (
        signet("admin-keys", "list", environment=only_the_database)
        .stdout.splitlines()[1]
        .split("\t")[4]
        != "-"
    )


def test_a_key_needs_a_name(only_the_database: dict[str, str]) -> None:
    for name in ("", " ", "x" * 65):
        refused = signet("admin-keys", "create", name, environment=only_the_database)
        assert refused.returncode == EXIT_USAGE
        assert refused.stdout == ""


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer sk_unknown", "Basic c2tfeDp5", "sk_nobearer", "Bearer " + "x" * 5000],
    ids=["missing", "empty", "unknown", "basic", "no scheme", "huge"],
)
async def test_a_missing_or_unknown_key_is_401(
    client: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"authorization": authorization}

    response = await client.get("/admin/v1/users", headers=headers)

    assert_problem(response, 401, "admin-key-required")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_session_is_no_admin_key(client: httpx.AsyncClient, app: FastAPI) -> None:
    await log_in_as(client, "edith@example.com", app=app)

    assert_problem(await client.get("/admin/v1/users"), 401, "admin-key-required")


async def test_keys_are_recorded_when_made_and_revoked(
    admin: httpx.AsyncClient, app: FastAPI
) -> None:
    keys = services_of(app).admin_keys
    made = await keys.create("other", actor=CLI)
    await keys.revoke(made.row.id, actor=CLI)

    created = await events_of(admin, type="admin_key.created")
    (revoked,) = await events_of(admin, type="admin_key.revoked")

    assert created[-1]["data"] == {"key_id": made.row.id, "name": "other"}
    assert revoked["actor"] == {"kind": "cli", "id": None}
    assert made.key not in str(created)


async def test_failed_keys_are_limited_per_address_then_even_a_right_one_waits(
    database_url: str, engine: object
) -> None:
    settings = suite_settings(database_url, rate_limit_per_address=3)
    async with running(settings) as app:
        key = (await services_of(app).admin_keys.create("ops", actor=CLI)).key
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="https://a.example") as client:
            for _ in range(3):
                wrong = await client.get(
                    "/admin/v1/users", headers={"authorization": "Bearer sk_wrong"}
                )
                assert_problem(wrong, 401)

            limited = await client.get("/admin/v1/users", headers={"authorization": "Bearer x"})
            right = await client.get("/admin/v1/users", headers={"authorization": f"Bearer {key}"})

        assert_problem(limited, 429, "too-many-requests")
        assert int(limited.headers["retry-after"]) >= 1
        assert_problem(right, 429)
        other = httpx.ASGITransport(app=app, client=("198.51.100.7", 4000))
        async with httpx.AsyncClient(transport=other, base_url="https://a.example") as elsewhere:
            fine = await elsewhere.get(
                "/admin/v1/users", headers={"authorization": f"Bearer {key}"}
            )
        assert fine.status_code == 200


def lines_of(stream: IO[str]) -> "queue.Queue[str]":
    """The lines `stream` prints, as they come (read by a thread: a test waits with a deadline)."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    return lines


def test_events_prints_the_log_and_follows_it(only_the_database: dict[str, str]) -> None:
    signet("admin-keys", "create", "first", environment=only_the_database)
    assert signet("events", "--type", "nope", environment=only_the_database).returncode == (
        EXIT_USAGE
    )
    printed = signet("events", "--type", "admin_key.", environment=only_the_database)
    (line,) = printed.stdout.splitlines()
    event_id, at, kind, email, actor, data = line.split("\t")
    assert (event_id, kind, email, actor) == ("1", "admin_key.created", "-", "cli")
    assert '"name":"first"' in data
    assert at.endswith("+00:00")

    follower = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "events", "--follow", "--type", "admin_key.created"],
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"), **only_the_database},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert follower.stdout is not None
        lines = lines_of(follower.stdout)
        assert lines.get(timeout=30).startswith("1\t")
        signet("admin-keys", "create", "second", environment=only_the_database)
        signet("admin-keys", "revoke", "nope", environment=only_the_database)  # no event

        second = lines.get(timeout=30)  # printed at the next poll

        assert second.startswith("2\t")
        assert '"name":"second"' in second
        assert lines.empty()
    finally:
        follower.send_signal(signal.SIGINT)
        _, errors = follower.communicate(timeout=30)
    assert follower.returncode == EXIT_OK, errors
