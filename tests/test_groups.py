"""Groups (issue 22): names checked, kept per source so that a provider's sign-in replaces only
its own, managed with `signet groups`, and a change by hand reaching every running server's
session cache at once, as a revocation does."""

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.groups import InvalidGroup, check_groups, valid_group
from api.auth.session_cache import token_digest
from api.cli import EXIT_NO_SUCH_USER, EXIT_OK, EXIT_USAGE, main
from api.config import Settings
from api.services import services_of
from api.store.groups import (
    INVITATION,
    MANUAL,
    GroupMembership,
    add_groups,
    groups_of,
    groups_of_many,
    list_groups,
    remove_groups,
    replace_provider_groups,
)
from api.store.identities import add_user
from api.store.users import delete_user
from api.testing import FakeProvider
from tests.apps import client_of, running, suite_settings
from tests.databases import empty_database, engine_with_tables
from tests.test_cli import database, seed, signet  # noqa: F401  (a fixture, and helpers)

T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
EDITH = "edith@example.com"
COOKIE = "__Host-signet_session"


@pytest.mark.parametrize("name", ["a", "0", "staff", "team.ops", "a_b-c", "x" * 64])
def test_group_names(name: str) -> None:
    assert valid_group(name)


@pytest.mark.parametrize("name", ["", "Staff", "-a", ".a", "_a", "a,b", "a b", "é", "x" * 65])
def test_not_group_names(name: str) -> None:
    assert not valid_group(name)
    with pytest.raises(InvalidGroup) as refused:
        check_groups(["ok", name])
    assert str(refused.value) == name


async def a_user(db: AsyncSession, email: str = EDITH) -> str:
    await add_user(db=db, email=email, verified=True, now=T0)
    return email


async def test_a_users_groups_are_those_of_every_source_each_once(
    db_session: AsyncSession,
) -> None:
    await a_user(db_session)
    await a_user(db_session, "zoe@example.com")

    assert await add_groups(db=db_session, email=EDITH, names=["staff", "ops"], source=MANUAL) == [
        "ops",
        "staff",
    ]
    assert await add_groups(db=db_session, email=EDITH, names=["staff"], source=MANUAL) == []
    await add_groups(db=db_session, email=EDITH, names=["staff", "beta"], source=INVITATION)
    await replace_provider_groups(db=db_session, email=EDITH, provider="corp", names=["ops"])

    assert await groups_of(db=db_session, email=EDITH) == ["beta", "ops", "staff"]
    assert await groups_of_many(db=db_session, emails=[EDITH, "zoe@example.com"]) == {
        EDITH: ["beta", "ops", "staff"],
        "zoe@example.com": [],
    }
    assert await groups_of_many(db=db_session, emails=[]) == {}


async def test_a_providers_claim_replaces_only_that_providers_groups(
    db_session: AsyncSession,
) -> None:
    await a_user(db_session)
    await add_groups(db=db_session, email=EDITH, names=["staff"], source=MANUAL)
    await add_groups(db=db_session, email=EDITH, names=["beta"], source=INVITATION)
    await replace_provider_groups(db=db_session, email=EDITH, provider="github", names=["oss"])

    assert await replace_provider_groups(
        db=db_session, email=EDITH, provider="corp", names=["ops", "staff"]
    )
    assert not await replace_provider_groups(
        db=db_session, email=EDITH, provider="corp", names=["staff", "ops"]
    )
    assert await replace_provider_groups(db=db_session, email=EDITH, provider="corp", names=[])

    assert [(row.name, row.source) for row in await list_groups(db=db_session, email=EDITH)] == [
        ("beta", INVITATION),
        ("oss", "provider:github"),
        ("staff", MANUAL),
    ]


async def test_removing_by_hand_leaves_a_providers_groups(db_session: AsyncSession) -> None:
    await a_user(db_session)
    await add_groups(db=db_session, email=EDITH, names=["staff", "ops"], source=MANUAL)
    await add_groups(db=db_session, email=EDITH, names=["beta"], source=INVITATION)
    await replace_provider_groups(db=db_session, email=EDITH, provider="corp", names=["staff"])

    removed = await remove_groups(db=db_session, email=EDITH, names=["staff", "beta", "none"])

    assert removed == ["beta", "staff"]
    assert await list_groups(db=db_session) == [
        GroupMembership(email=EDITH, name="ops", source=MANUAL),
        GroupMembership(email=EDITH, name="staff", source="provider:corp"),
    ]


async def test_a_deleted_users_groups_go_with_them(db_session: AsyncSession) -> None:
    await a_user(db_session)
    await add_groups(db=db_session, email=EDITH, names=["staff"], source=MANUAL)
    await db_session.commit()

    await delete_user(db=db_session, email=EDITH)
    await db_session.commit()

    assert await list_groups(db=db_session) == []


def test_groups_add_remove_and_list(
    database: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed(database, EDITH, "zoe@example.com")

    assert main(["groups", "add", " Edith@Example.com", "staff", "ops"]) == EXIT_OK
    assert main(["groups", "add", EDITH, "staff", "beta"]) == EXIT_OK
    assert main(["groups", "add", "zoe@example.com", "staff"]) == EXIT_OK
    assert capsys.readouterr().out.splitlines() == [
        f"added ops, staff to {EDITH}",
        f"added beta to {EDITH}",
        f"{EDITH} was in staff already",
        "added staff to zoe@example.com",
    ]
    assert main(["groups", "remove", EDITH, "ops", "nope"]) == EXIT_OK
    assert main(["groups", "list"]) == EXIT_OK
    assert main(["groups", "list", EDITH.upper()]) == EXIT_OK
    assert capsys.readouterr().out.splitlines() == [
        f"removed ops from {EDITH}",
        f"{EDITH} was not in nope",
        "email\tgroup\tsource",
        f"{EDITH}\tbeta\tmanual",
        f"{EDITH}\tstaff\tmanual",
        "zoe@example.com\tstaff\tmanual",
        "email\tgroup\tsource",
        f"{EDITH}\tbeta\tmanual",
        f"{EDITH}\tstaff\tmanual",
    ]


def test_groups_remove_says_when_a_provider_keeps_the_user_in(
    database: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed(database, EDITH)

    async def from_corp() -> None:
        from api.store.db import create_db_sessions, create_engine

        engine = create_engine(database)
        async with create_db_sessions(engine)() as db:
            await replace_provider_groups(db=db, email=EDITH, provider="corp", names=["staff"])
            await db.commit()
        await engine.dispose()

    asyncio.run(from_corp())
    assert main(["groups", "add", EDITH, "staff"]) == EXIT_OK

    assert main(["groups", "remove", EDITH, "staff"]) == EXIT_OK
    assert capsys.readouterr().out.splitlines()[1:] == [
        f"removed staff from {EDITH}",
        f"{EDITH} stays in staff: it comes from provider:corp",
    ]


@pytest.mark.parametrize(
    ("argv", "code", "said"),
    [
        (["add", "nobody@example.com", "staff"], EXIT_NO_SUCH_USER, "no user nobody@example.com"),
        (["remove", "nobody@example.com", "x"], EXIT_NO_SUCH_USER, "no user nobody@example.com"),
        (["list", "nobody@example.com"], EXIT_NO_SUCH_USER, "no user nobody@example.com"),
        (["add", "nobody", "staff"], EXIT_USAGE, "not an email address: 'nobody'"),
        (["list", "nobody"], EXIT_USAGE, "not an email address: 'nobody'"),
        (["add", EDITH, "ok", "Not-OK"], EXIT_USAGE, "not a group name: 'Not-OK'"),
    ],
)
def test_groups_refusals_are_one_line(
    database: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    code: int,
    said: str,
) -> None:
    seed(database, EDITH)

    assert main(["groups", *argv]) == code
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"signet: {said}")


def test_groups_need_only_the_database_url(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}"
    only_the_database = {"SIGNET_DATABASE_URL": url}
    assert signet("migrate", environment=only_the_database).returncode == EXIT_OK
    seed(url, EDITH)

    added = signet("groups", "add", EDITH, "staff", environment=only_the_database)
    listed = signet("groups", "list", environment=only_the_database)

    assert added.returncode == EXIT_OK, added.stderr
    assert listed.stdout.splitlines() == ["email\tgroup\tsource", f"{EDITH}\tstaff\tmanual"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
async def shared_settings(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Settings]:
    async with empty_database(request.param, tmp_path) as url, engine_with_tables(url):
        yield suite_settings(url, session_cache_ttl=60.0)


async def evicted_within(app: FastAPI, digest: bytes, deadline: float) -> bool:
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        if services_of(app).sessions.cached(digest) is None:
            return True
        await asyncio.sleep(0.001)  # let the event loop read the notification
    return False


async def test_a_group_change_by_command_evicts_the_users_cached_sessions_everywhere(
    shared_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    verifier = FakeProvider()
    verifier.accept("edith", email=EDITH)
    verifier.accept("zoe", email="zoe@example.com")
    monkeypatch.setenv("SIGNET_DATABASE_URL", shared_settings.database_url)
    async with (
        running(shared_settings, provider=verifier) as first,
        running(shared_settings, provider=verifier) as second,
        client_of(first) as one,
        client_of(second) as two,
    ):
        token = (await one.post("/auth/login", json={"assertion": "edith"})).cookies[COOKIE]
        one.cookies.clear()
        other = (await one.post("/auth/login", json={"assertion": "zoe"})).cookies[COOKIE]
        one.cookies.clear()
        for client in (one, two):
            for held in (token, other):
                assert (await me(client, held)).is_success
        digest, others = token_digest("cookie", token), token_digest("cookie", other)
        assert services_of(second).sessions.cached(digest) is not None

        code = await asyncio.to_thread(main, ["groups", "add", EDITH, "staff"])

        assert code == EXIT_OK
        assert await evicted_within(first, digest, 1.0)
        assert await evicted_within(second, digest, 1.0)
        if shared_settings.database_url.startswith("postgresql"):  # SQLite's file: all go
            assert services_of(second).sessions.cached(others) is not None
        for client in (one, two):  # changed, not ended
            assert (await me(client, token)).is_success


async def me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/auth/me", headers={"cookie": f"{COOKIE}={token}"})
