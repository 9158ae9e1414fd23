"""The audit log: every change to who may sign in, and every sign-in attempt, is an event written
in the transaction of its change, naming who caused it and the request that did."""

from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.auth.events import CLI
from api.auth.group_changes import change_groups
from api.auth.invitation_changes import invite, revoke
from api.services import services_of
from api.store.events import event_public
from api.store.operator_tables import EventRow
from api.store.tables import User
from api.testing import FakeClock, FakeProvider
from tests.databases import count_rows

COOKIE = "__Host-signet_session"
EDITH = "edith@example.com"


async def events(db: AsyncSession, *types: str) -> list[dict[str, Any]]:
    """The events written so far (of these types), oldest first, as the admin API shows them."""
    statement = select(EventRow).order_by(col(EventRow.id))
    if types:
        statement = statement.where(col(EventRow.type).in_(types))
    rows = (await db.scalars(statement.execution_options(populate_existing=True))).all()
    return [event_public(row).model_dump(mode="json") for row in rows]


async def sign_in(
    client: httpx.AsyncClient, assertion: str, request_id: str = "req-1"
) -> httpx.Response:
    return await client.post(
        "/auth/login",
        json={"assertion": assertion},
        headers={"x-request-id": request_id, "user-agent": "Firefox/140"},
    )


async def test_a_first_sign_in_records_the_user_the_identity_and_the_session(
    client: httpx.AsyncClient, verifier: FakeProvider, db_session: AsyncSession
) -> None:
    verifier.accept("edith", email=EDITH, subject="g-1")

    response = await sign_in(client, "edith", request_id="first-sign-in")

    assert response.status_code == 200
    written = await events(db_session)
    assert [event["type"] for event in written] == [
        "user.created",
        "identity.linked",
        "session.created",
    ]
    for event in written:
        assert event["email"] == EDITH
        assert event["actor"] == {"kind": "user", "id": EDITH}
        assert event["request_id"] == "first-sign-in"
    assert written[0]["id"] < written[1]["id"] < written[2]["id"]
    session = written[2]["data"]
    assert session["provider"] == "fake"
    assert session["address"] == "127.0.0.1"
    assert session["user_agent"] == "Firefox/140"
    # The session is named by its id, as the user's list of sessions shows it; its token is
    # nowhere in the log.
    token = response.cookies[COOKIE]
    assert token not in str(written)
    listed = await client.get("/auth/sessions", headers={"cookie": f"{COOKIE}={token}"})
    assert session["session_id"] == listed.json()[0]["id"]


async def test_a_second_sign_in_only_starts_a_session_and_ends_the_one_it_replaces(
    client: httpx.AsyncClient, verifier: FakeProvider, db_session: AsyncSession
) -> None:
    verifier.accept("edith", email=EDITH, subject="g-1")
    await sign_in(client, "edith")
    first = (await events(db_session, "session.created"))[0]["data"]["session_id"]

    await sign_in(client, "edith", request_id="again")  # the browser still sends its cookie

    later = [event for event in await events(db_session) if event["request_id"] == "again"]
    assert [event["type"] for event in later] == ["session.created", "session.ended"]
    assert later[1]["data"] == {"session_id": first, "reason": "replaced"}


async def test_signing_out_records_why_each_session_ended(
    client: httpx.AsyncClient, verifier: FakeProvider, db_session: AsyncSession
) -> None:
    verifier.accept("edith", email=EDITH, subject="g-1")
    await sign_in(client, "edith")
    await client.post("/auth/logout")
    await sign_in(client, "edith")
    client.cookies.clear()
    kept = (await sign_in(client, "edith")).cookies[COOKIE]
    listed = await client.get("/auth/sessions", headers={"cookie": f"{COOKIE}={kept}"})
    other = next(row["id"] for row in listed.json() if not row["current"])
    await client.delete(f"/auth/sessions/{other}", headers={"cookie": f"{COOKIE}={kept}"})
    await sign_in(client, "edith")
    await client.post("/auth/logout-everywhere")

    ended = await events(db_session, "session.ended")
    assert [event["data"]["reason"] for event in ended] == [
        "logout",
        "ended",
        "replaced",
        "logout_everywhere",
    ]
    assert ended[1]["data"]["session_id"] == other


async def test_a_refused_sign_in_is_recorded_without_the_assertion(
    client: httpx.AsyncClient, verifier: FakeProvider, db_session: AsyncSession
) -> None:
    response = await sign_in(client, "not-a-real-assertion", request_id="refused")

    assert response.status_code == 401
    (failed,) = await events(db_session)
    assert failed["type"] == "sign_in.failed"
    assert failed["email"] is None
    assert failed["actor"] == {"kind": "user", "id": None}
    assert failed["request_id"] == "refused"
    assert failed["data"] == {
        "provider": "fake",
        "reason": "invalid_response",
        "address": "127.0.0.1",
    }
    assert "not-a-real-assertion" not in str(failed)
    assert await count_rows(db_session, User) == 0


async def test_an_unverified_claim_on_a_users_email_is_a_failed_sign_in_naming_them(
    client: httpx.AsyncClient, verifier: FakeProvider, db_session: AsyncSession
) -> None:
    verifier.accept("owner", email=EDITH, subject="g-1")
    verifier.accept("squatter", email=EDITH, verified=False, subject="ms-9")
    await sign_in(client, "owner")
    client.cookies.clear()

    assert (await sign_in(client, "squatter")).status_code == 409

    failed = (await events(db_session, "sign_in.failed"))[0]
    assert failed["email"] == EDITH
    assert failed["data"]["reason"] == "account_exists"


async def test_a_takeover_records_the_identities_and_sessions_it_ended(
    client: httpx.AsyncClient, verifier: FakeProvider, db_session: AsyncSession
) -> None:
    verifier.accept("squatter", email=EDITH, verified=False, subject="ms-9")
    verifier.accept("owner", email=EDITH, subject="g-1")
    await sign_in(client, "squatter")
    squatters = (await events(db_session, "session.created"))[0]["data"]["session_id"]
    client.cookies.clear()

    await sign_in(client, "owner", request_id="takeover")

    taken = [event for event in await events(db_session) if event["request_id"] == "takeover"]
    assert [event["type"] for event in taken] == [
        "identity.unlinked",
        "session.ended",
        "identity.linked",
        "session.created",
    ]
    assert taken[1]["data"] == {"session_id": squatters, "reason": "takeover"}


async def test_operators_changes_are_recorded_with_the_cli_as_actor(
    app: FastAPI,
    client: httpx.AsyncClient,
    verifier: FakeProvider,
    db_session: AsyncSession,
    clock: FakeClock,
) -> None:
    services = services_of(app)
    invitation = await invite(
        services.db_sessions,
        email=EDITH,
        groups=["staff"],
        lifetime=timedelta(days=1),
        at=clock(),
        actor=CLI,
    )
    verifier.accept("edith", email=EDITH, subject="g-1")
    await sign_in(client, "edith", request_id="invited")
    await change_groups(services.sessions, EDITH, at=clock(), actor=CLI, add=["ops"])
    other = await invite(
        services.db_sessions,
        email="zoe@example.com",
        groups=[],
        lifetime=timedelta(days=1),
        at=clock(),
        actor=CLI,
    )
    await revoke(services.db_sessions, other.id, at=clock(), actor=CLI)

    written = await events(db_session)
    assert [(event["type"], event["actor"]["kind"]) for event in written] == [
        ("invitation.created", "cli"),
        ("user.created", "user"),
        ("invitation.used", "user"),
        ("identity.linked", "user"),
        ("session.created", "user"),
        ("user.groups_changed", "cli"),
        ("invitation.created", "cli"),
        ("invitation.revoked", "cli"),
    ]
    assert written[0]["request_id"] is None  # not caused by a request
    assert written[2]["data"] == {"invitation_id": invitation.id, "groups": ["staff"]}
    assert written[5]["data"] == {
        "added": ["ops"],
        "removed": [],
        "groups": ["ops", "staff"],
        "source": "manual",
    }


async def test_the_longest_request_id_a_request_may_bring_is_recorded_whole(
    client: httpx.AsyncClient, verifier: FakeProvider, db_session: AsyncSession
) -> None:
    verifier.accept("edith", email=EDITH)
    longest = "r" * 128  # what the access log accepts from X-Request-ID

    assert (await sign_in(client, "edith", request_id=longest)).status_code == 200
    assert (await sign_in(client, "wrong", request_id=longest)).status_code == 401

    assert {event["request_id"] for event in await events(db_session)} == {longest}
