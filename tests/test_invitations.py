"""Invitations (issue 22): one live per email, refused for a user, revoked, and spent once by the
email's first sign-in, also when two such sign-ins or two creates race; and `signet invitations`
as operators see it."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.auth.groups import InvalidDuration, parse_duration
from api.cli import EXIT_NO_SUCH_USER, EXIT_OK, EXIT_USAGE, main
from api.commands.exits import EXIT_REFUSED
from api.store.db import create_db_sessions
from api.store.identities import add_user
from api.store.invitations import (
    AlreadyAUser,
    LiveInvitationExists,
    create_invitation,
    invitation_state,
    invited_groups,
    list_invitations,
    revoke_invitation,
    take_live_invitation,
)
from tests.databases import empty_database, engine_with_tables
from tests.test_cli import database, signet  # noqa: F401  (a fixture, and a helper)

T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
EDITH = "edith@example.com"


async def invite(db: AsyncSession, email: str = EDITH, *groups: str, now: datetime = T0) -> str:
    invitation = await create_invitation(db=db, email=email, groups=groups, now=now, lifetime=WEEK)
    await db.commit()
    return invitation.id


async def test_an_invitation_is_live_until_it_expires_and_keeps_its_groups(
    db_session: AsyncSession,
) -> None:
    await invite(db_session, EDITH, "staff", "admins", "staff")

    (invitation,) = await list_invitations(db=db_session)

    assert invitation.email == EDITH
    assert invited_groups(invitation) == ["admins", "staff"]
    assert invitation.expires_at == T0 + WEEK
    assert invitation_state(invitation, T0 + WEEK - timedelta(seconds=1)) == "live"
    assert invitation_state(invitation, T0 + WEEK) == "expired"


async def test_a_second_live_invitation_is_refused_naming_the_first(
    db_session: AsyncSession,
) -> None:
    first = await invite(db_session)

    with pytest.raises(LiveInvitationExists) as refused:
        await invite(db_session, now=T0 + timedelta(days=1))

    assert refused.value.invitation_id == first


async def test_once_the_first_is_expired_revoked_or_spent_another_may_be_made(
    db_session: AsyncSession,
) -> None:
    first = await invite(db_session)
    second = await invite(db_session, now=T0 + WEEK)  # the first expired
    assert await revoke_invitation(db=db_session, invitation_id=second, now=T0 + WEEK)
    third = await invite(db_session, now=T0 + WEEK)
    assert await take_live_invitation(db=db_session, email=EDITH, now=T0 + WEEK) is not None
    fourth = await invite(db_session, now=T0 + WEEK)

    states = {i.id: invitation_state(i, T0 + WEEK) for i in await list_invitations(db=db_session)}

    assert states == {first: "expired", second: "revoked", third: "spent", fourth: "live"}


async def test_an_invitation_for_a_user_is_refused(db_session: AsyncSession) -> None:
    await add_user(db=db_session, email=EDITH, verified=True, now=T0)
    await db_session.commit()

    with pytest.raises(AlreadyAUser):
        await invite(db_session)


async def test_taking_spends_it_once_and_only_a_live_one_is_taken(
    db_session: AsyncSession,
) -> None:
    await invite(db_session, EDITH, "staff")
    await invite(db_session, "francis@example.com", now=T0 - WEEK)  # expired by T0
    revoked = await invite(db_session, "zoe@example.com")
    await revoke_invitation(db=db_session, invitation_id=revoked, now=T0)

    taken = await take_live_invitation(db=db_session, email=EDITH, now=T0)
    again = await take_live_invitation(db=db_session, email=EDITH, now=T0)

    assert taken is not None
    assert invited_groups(taken) == ["staff"]
    assert taken.spent_at == T0
    assert again is None
    for email in ("francis@example.com", "zoe@example.com", "nobody@example.com"):
        assert await take_live_invitation(db=db_session, email=email, now=T0) is None


async def test_a_taking_rolled_back_leaves_it_live(engine: AsyncEngine) -> None:
    db_sessions = create_db_sessions(engine)
    async with db_sessions() as db:
        await invite(db)
        assert await take_live_invitation(db=db, email=EDITH, now=T0) is not None
        await db.rollback()
    async with db_sessions() as db:
        assert await take_live_invitation(db=db, email=EDITH, now=T0) is not None


async def test_only_a_live_invitation_can_be_revoked(db_session: AsyncSession) -> None:
    made = await invite(db_session)

    assert await revoke_invitation(db=db_session, invitation_id=made, now=T0)
    assert not await revoke_invitation(db=db_session, invitation_id=made, now=T0)
    assert not await revoke_invitation(db=db_session, invitation_id="nope", now=T0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("12h", timedelta(hours=12)),
        ("7d", timedelta(days=7)),
        (" 1d ", timedelta(days=1)),
    ],
)
def test_durations_take_seconds_minutes_hours_or_days(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["0d", "7", "d", "-1d", "1.5h", "7w", "1d2h", "", "99999d"])
def test_other_durations_are_refused(text: str) -> None:
    with pytest.raises(InvalidDuration):
        parse_duration(text)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
async def shared_engine(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    """A database on a file or a server, which several connections use at once."""
    async with (
        empty_database(request.param, tmp_path) as url,
        engine_with_tables(url) as engine,
    ):
        yield engine


async def test_two_concurrent_first_sign_ins_spend_it_once(shared_engine: AsyncEngine) -> None:
    db_sessions = create_db_sessions(shared_engine)
    async with db_sessions() as db:
        await invite(db)

    async with db_sessions() as first, db_sessions() as second:
        assert await take_live_invitation(db=first, email=EDITH, now=T0) is not None
        racing = asyncio.create_task(take_live_invitation(db=second, email=EDITH, now=T0))
        await asyncio.sleep(0.3)
        assert not racing.done()  # it waits for the first transaction to end
        await first.commit()
        assert await racing is None


async def test_many_concurrent_takes_find_it_once(shared_engine: AsyncEngine) -> None:
    db_sessions = create_db_sessions(shared_engine)
    async with db_sessions() as db:
        await invite(db)

    async def take() -> bool:
        async with db_sessions() as db:
            taken = await take_live_invitation(db=db, email=EDITH, now=T0)
            await db.commit()
            return taken is not None

    assert sorted(await asyncio.gather(*(take() for _ in range(8)))) == [False] * 7 + [True]


async def test_concurrent_creates_leave_one_live_invitation(shared_engine: AsyncEngine) -> None:
    db_sessions = create_db_sessions(shared_engine)

    async def create() -> str:
        async with db_sessions() as db:
            try:
                return await invite(db)
            except LiveInvitationExists as refused:
                return f"refused: {refused.invitation_id}"

    outcomes = await asyncio.gather(*(create() for _ in range(6)))

    async with db_sessions() as db:
        (made,) = await list_invitations(db=db)
    assert sorted(outcomes) == [made.id] + [f"refused: {made.id}"] * 5


def test_create_prints_the_id_and_expiry_and_list_shows_it(
    database: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    argv = ["invitations", "create", " Edith@Example.com ", "--group", "staff", "--expires", "2h"]

    assert main(argv) == EXIT_OK

    made, expires = capsys.readouterr().out.strip().split("\t")
    assert before + timedelta(hours=2) <= datetime.fromisoformat(expires)
    assert main(["invitations", "list"]) == EXIT_OK
    assert capsys.readouterr().out.splitlines() == [
        "id\temail\tgroups\tstate\texpires_at",
        f"{made}\t{EDITH}\tstaff\tlive\t{expires}",
    ]


def test_create_refuses_a_second_naming_the_live_one_then_revoke_ends_it(
    database: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["invitations", "create", EDITH]) == EXIT_OK
    made = capsys.readouterr().out.split("\t")[0]

    assert main(["invitations", "create", EDITH]) == EXIT_REFUSED
    assert capsys.readouterr().err == (
        f"signet: {EDITH} has a live invitation already: {made} (revoke it first to invite again)\n"
    )
    assert main(["invitations", "revoke", made]) == EXIT_OK
    assert main(["invitations", "revoke", made]) == EXIT_NO_SUCH_USER
    assert f"invitation {made} is revoked, not live" in capsys.readouterr().err
    assert main(["invitations", "revoke", "nope"]) == EXIT_NO_SUCH_USER
    assert "signet: no invitation nope" in capsys.readouterr().err
    assert main(["invitations", "create", EDITH]) == EXIT_OK


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["not-an-email"], "signet: not an email address: 'not-an-email'"),
        ([EDITH, "--group", "Staff"], "signet: not a group name: 'Staff' (lower-case letters"),
        ([EDITH, "--group", "a,b"], "signet: not a group name: 'a,b'"),
        ([EDITH, "--expires", "7w"], "signet: --expires '7w': not a positive number with s, m,"),
    ],
)
def test_create_refuses_bad_usage_in_one_line(
    database: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    said: str,
) -> None:
    assert main(["invitations", "create", *argv]) == EXIT_USAGE

    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(said)


def test_create_refuses_an_existing_user(
    database: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def add() -> None:
        from api.store.db import create_engine

        engine = create_engine(database)
        async with create_db_sessions(engine)() as db:
            await add_user(db=db, email=EDITH, verified=True, now=T0)
            await db.commit()
        await engine.dispose()

    asyncio.run(add())

    assert main(["invitations", "create", EDITH]) == EXIT_REFUSED
    assert capsys.readouterr().err == f"signet: {EDITH} is a user already: no invitation needed\n"


def test_invitations_need_only_the_database_url(tmp_path: Path) -> None:
    only_the_database = {"SIGNET_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}"}
    assert signet("migrate", environment=only_the_database).returncode == EXIT_OK

    created = signet(
        "invitations", "create", EDITH, "--group", "staff", environment=only_the_database
    )
    listed = signet("invitations", "list", environment=only_the_database)

    assert created.returncode == EXIT_OK, created.stderr
    assert listed.stdout.splitlines()[1].startswith(f"{created.stdout.split()[0]}\t{EDITH}\tstaff")
