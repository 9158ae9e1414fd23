"""Signing up: SIGNET_SIGN_UP=invite-only lets an email with no user yet in only with a live
invitation, which its first verified sign-in spends, bringing the invitation's groups; a
provider's groups claim replaces that provider's groups at each sign-in, and no other's."""

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from api.store.groups import MANUAL, add_groups, list_groups
from api.store.invitations import create_invitation, revoke_invitation
from api.store.tables import IdentityRow, Invitation, SessionRow, User, UserGroup
from api.testing import FakeClock, FakeProvider
from tests.databases import count_rows

ANN = "ann@corp.example"
NOT_ALLOWED = "urn:signet:problem:not-allowed"
TABLES: tuple[type[SQLModel], ...] = (User, IdentityRow, SessionRow, Invitation, UserGroup)
invite_only = pytest.mark.settings(sign_up="invite-only")


@pytest.fixture
def verifier(verifier: FakeProvider) -> FakeProvider:
    verifier.accept("ann", email=ANN, subject="ann-1")
    verifier.accept("ann-unverified", email=ANN, verified=False, subject="ms-ann")
    return verifier


async def invite(db: AsyncSession, clock: FakeClock, *groups: str, days: int = 7) -> str:
    invitation = await create_invitation(
        db=db, email=ANN, groups=groups, now=clock(), lifetime=timedelta(days=days)
    )
    await db.commit()
    return invitation.id


async def everything(db: AsyncSession) -> list[object]:
    """Every row of the tables a refusal must leave as they were."""
    db.expire_all()
    return [sorted(map(repr, (await db.scalars(select(table))).all())) for table in TABLES]


async def groups(db: AsyncSession) -> list[tuple[str, str]]:
    return [(row.name, row.source) for row in await list_groups(db=db, email=ANN)]


async def sign_in(client: httpx.AsyncClient, assertion: str = "ann") -> httpx.Response:
    return await client.post("/auth/login", json={"assertion": assertion})


@invite_only
async def test_invite_only_refuses_an_email_with_no_user_and_no_invitation(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    before = await everything(db_session)

    refused = await sign_in(client)

    assert (refused.status_code, refused.json()["type"]) == (403, NOT_ALLOWED)
    assert await everything(db_session) == before


@invite_only
async def test_a_live_invitation_admits_once_with_its_groups(
    client: httpx.AsyncClient, db_session: AsyncSession, clock: FakeClock
) -> None:
    await invite(db_session, clock, "admins", "ops")

    first = await sign_in(client)
    client.cookies.clear()
    again = await sign_in(client)  # a user now: the mode no longer asks

    assert (first.status_code, again.status_code) == (200, 200)
    assert await groups(db_session) == [("admins", "invitation"), ("ops", "invitation")]
    invitation = (await db_session.scalars(select(Invitation))).one()
    assert invitation.spent_at is not None


@invite_only
@pytest.mark.parametrize("spoiled", ["expired", "revoked", "spent"])
async def test_an_expired_revoked_or_spent_invitation_admits_nobody(
    client: httpx.AsyncClient, db_session: AsyncSession, clock: FakeClock, spoiled: str
) -> None:
    invitation = await invite(db_session, clock, "admins", days=1)
    if spoiled == "expired":
        clock.advance(timedelta(days=1).total_seconds())
    elif spoiled == "revoked":
        assert await revoke_invitation(db=db_session, invitation_id=invitation, now=clock())
        await db_session.commit()
    else:
        assert (await sign_in(client)).status_code == 200
        await client.post("/auth/logout")
        await db_session.execute(User.__table__.delete())  # type: ignore[attr-defined]
        await db_session.commit()
    before = await everything(db_session)

    refused = await sign_in(client)

    assert refused.status_code == 403
    assert await everything(db_session) == before


@invite_only
async def test_an_unverified_email_neither_spends_an_invitation_nor_signs_up(
    client: httpx.AsyncClient, db_session: AsyncSession, clock: FakeClock
) -> None:
    await invite(db_session, clock, "admins")
    before = await everything(db_session)

    refused = await sign_in(client, "ann-unverified")

    assert refused.status_code == 403
    assert await everything(db_session) == before


@pytest.mark.settings(sign_up="invite-only", allowed_domains="elsewhere.example")
async def test_an_allow_list_refusal_leaves_the_invitation_live(
    client: httpx.AsyncClient, db_session: AsyncSession, clock: FakeClock
) -> None:
    await invite(db_session, clock, "admins")
    before = await everything(db_session)

    assert (await sign_in(client)).status_code == 403
    assert await everything(db_session) == before


async def test_open_sign_up_uses_a_live_invitation_too(
    client: httpx.AsyncClient, db_session: AsyncSession, clock: FakeClock
) -> None:
    await invite(db_session, clock, "admins")

    assert (await sign_in(client)).status_code == 200

    assert await groups(db_session) == [("admins", "invitation")]
    assert (await db_session.scalars(select(Invitation))).one().spent_at is not None


async def test_a_groups_claim_replaces_its_providers_groups_and_keeps_the_others(
    client: httpx.AsyncClient, db_session: AsyncSession, verifier: FakeProvider
) -> None:
    verifier.accept("first", email=ANN, subject="ann-1", groups=("admins", "ops"))
    verifier.accept("second", email=ANN, subject="ann-1", groups=("ops", "sre"))
    verifier.accept("none", email=ANN, subject="ann-1", groups=())
    assert (await sign_in(client, "first")).status_code == 200
    await add_groups(db=db_session, email=ANN, names=["admins"], source=MANUAL)
    await db_session.commit()

    await sign_in(client, "second")
    changed = await groups(db_session)
    await sign_in(client, "ann")  # no groups claim: the provider's groups stay as they were
    unchanged = await groups(db_session)
    await sign_in(client, "none")  # a claim listing none

    assert changed == [("admins", "manual"), ("ops", "provider:fake"), ("sre", "provider:fake")]
    assert unchanged == changed
    assert await groups(db_session) == [("admins", "manual")]


@invite_only
async def test_an_existing_user_is_not_affected_by_invite_only(
    client: httpx.AsyncClient, db_session: AsyncSession, clock: FakeClock
) -> None:
    db_session.add(User(email=ANN, created_at=clock(), last_login=clock()))
    await db_session.commit()

    assert (await sign_in(client)).status_code == 200
    assert await count_rows(db_session, User) == 1
    assert (await db_session.scalars(select(col(User.email)))).all() == [ANN]


async def test_the_login_answer_names_the_groups_as_me_does(
    client: httpx.AsyncClient, db_session: AsyncSession, clock: FakeClock
) -> None:
    await invite(db_session, clock, "ops", "admins")

    signed_in = await sign_in(client)

    assert signed_in.json()["groups"] == ["admins", "ops"]
    assert (await client.get("/auth/me")).json()["groups"] == ["admins", "ops"]
