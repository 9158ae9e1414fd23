"""Invitations and the audit log through the admin API (issue 23): invited, listed a page at a
time, revoked, each with its event; the log oldest first, filtered, paged without missing an
event written between pages, each item exactly the model webhooks receive."""

import httpx
import pytest
from fastapi import FastAPI

from api.auth.events import CLI
from api.services import services_of
from api.store.events import EventPublic
from api.testing import FakeClock, FakeProvider
from tests.admin_calls import assert_problem, events_of, sign_in

EDITH = "edith@example.com"


@pytest.fixture
def verifier(verifier: FakeProvider) -> FakeProvider:
    verifier.accept("edith", email=EDITH)
    return verifier


async def test_an_invitation_is_made_listed_used_and_recorded(
    admin: httpx.AsyncClient, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    made = await admin.post(
        "/admin/v1/invitations",
        json={"email": "Edith@Example.com", "groups": ["staff"], "expires_in": 3600},
    )

    assert made.status_code == 201
    invitation = made.json()
    assert (invitation["email"], invitation["groups"], invitation["state"]) == (
        EDITH,
        ["staff"],
        "live",
    )
    assert invitation["id"]
    (created,) = await events_of(admin, type="invitation.created")
    assert created["data"]["invitation_id"] == invitation["id"]
    assert created["actor"]["kind"] == "admin_key"
    assert (await sign_in(client, "edith")).json()["groups"] == ["staff"]
    (listed,) = (await admin.get("/admin/v1/invitations")).json()["items"]
    assert (listed["id"], listed["state"]) == (invitation["id"], "spent")
    assert len(await events_of(admin, type="invitation.used")) == 1


async def test_a_second_live_invitation_or_one_for_a_user_is_409(
    admin: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    await admin.post("/admin/v1/invitations", json={"email": "bob@example.com"})
    await sign_in(client, "edith")

    twice = await admin.post("/admin/v1/invitations", json={"email": "bob@example.com"})
    user = await admin.post("/admin/v1/invitations", json={"email": EDITH})

    assert_problem(twice, 409, "invitation-exists")
    assert_problem(user, 409, "already-a-user")


async def test_revoking_a_live_invitation_then_not_live_409_and_unknown_404(
    admin: httpx.AsyncClient,
) -> None:
    made = (await admin.post("/admin/v1/invitations", json={"email": EDITH})).json()

    revoked = await admin.delete(f"/admin/v1/invitations/{made['id']}")

    assert revoked.status_code == 204
    (event,) = await events_of(admin, type="invitation.revoked")
    assert (event["email"], event["data"]) == (EDITH, {"invitation_id": made["id"]})
    assert event["actor"]["kind"] == "admin_key"
    assert_problem(
        await admin.delete(f"/admin/v1/invitations/{made['id']}"), 409, "invitation-not-live"
    )
    assert_problem(await admin.delete("/admin/v1/invitations/nope"), 404, "no-such-invitation")
    (shown,) = (await admin.get("/admin/v1/invitations")).json()["items"]
    assert shown["state"] == "revoked"
    assert shown["revoked_at"] is not None


async def test_invitation_pages_hold_while_invitations_are_made(
    admin: httpx.AsyncClient, clock: FakeClock
) -> None:
    async def invite(name: str) -> str:
        clock.advance(1)
        made = await admin.post("/admin/v1/invitations", json={"email": f"{name}@example.com"})
        invitation_id: str = made.json()["id"]
        return invitation_id

    first = [await invite(name) for name in ("a", "b", "c")]
    page = (await admin.get("/admin/v1/invitations", params={"limit": 2})).json()
    later = await invite("d")
    rest = (
        await admin.get("/admin/v1/invitations", params={"limit": 2, "cursor": page["next_cursor"]})
    ).json()

    seen = [item["id"] for item in page["items"] + rest["items"]]
    assert seen == [*first, later]
    assert rest["next_cursor"] is None


async def test_events_are_oldest_first_filtered_and_exactly_the_webhook_model(
    admin: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    await sign_in(client, "edith")
    await admin.post("/admin/v1/users", json={"email": "bob@example.com"})

    everything = await events_of(admin)
    mine = await events_of(admin, email="EDITH@example.com")
    users = await events_of(admin, type="user.")
    two_kinds = (
        await admin.get("/admin/v1/events", params=[("type", "user."), ("type", "session.created")])
    ).json()["items"]
    after = await events_of(admin, after=everything[1]["id"])

    ids = [event["id"] for event in everything]
    assert ids == sorted(ids)
    assert all(
        EventPublic.model_validate(event).model_dump(mode="json") == event for event in everything
    )
    assert set(everything[0]) == set(EventPublic.model_fields)
    assert {event["email"] for event in mine} == {EDITH}
    assert [event["type"] for event in mine] == [
        "user.created",
        "identity.linked",
        "session.created",
    ]
    assert [(event["type"], event["email"]) for event in users] == [
        ("user.created", EDITH),
        ("user.created", "bob@example.com"),
    ]
    assert {event["type"] for event in two_kinds} == {"user.created", "session.created"}
    assert after == everything[2:]
    session = next(event for event in everything if event["type"] == "session.created")
    assert session["request_id"]
    assert set(session["data"]) >= {"provider", "session_id", "address"}


async def test_event_pages_hold_while_events_are_written_between_them(
    admin: httpx.AsyncClient, app: FastAPI
) -> None:
    keys = services_of(app).admin_keys
    for number in range(4):
        await keys.create(f"key {number}", actor=CLI)
    page = (await admin.get("/admin/v1/events", params={"limit": 3})).json()
    await keys.create("later", actor=CLI)

    rest = (
        await admin.get("/admin/v1/events", params={"limit": 3, "cursor": page["next_cursor"]})
    ).json()

    names = [event["data"]["name"] for event in page["items"] + rest["items"]]
    assert names == ["tests", "key 0", "key 1", "key 2", "key 3", "later"]
    assert rest["next_cursor"] is None
