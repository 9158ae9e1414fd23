"""The admin API's users (issue 23): listed in email order and filtered, created before their
first sign-in, shown, disabled and enabled, regrouped and deleted; each change with its event,
caused by the admin key."""

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.events import CLI
from api.auth.provisioning import create_user
from api.services import services_of
from api.store.groups import list_groups, replace_provider_groups
from api.store.tables import IdentityRow, UserGroup
from api.store.users import get_user
from api.testing import FakeClock, FakeProvider
from tests.admin_calls import assert_problem, events_of, sign_in, user_path, with_token
from tests.databases import count_rows

EDITH = "edith@example.com"


@pytest.fixture
def verifier(verifier: FakeProvider) -> FakeProvider:
    verifier.accept("edith", email=EDITH)
    verifier.accept("bob", email="bob@example.com")
    verifier.accept("slash", email="a/b@example.com")
    return verifier


async def key_id(admin: httpx.AsyncClient) -> str:
    (created,) = await events_of(admin, type="admin_key.created")
    key: str = created["data"]["key_id"]
    return key


async def test_a_created_user_is_shown_unverified_with_groups_and_its_event(
    admin: httpx.AsyncClient,
) -> None:
    created = await admin.post(
        "/admin/v1/users", json={"email": " Edith@Example.com ", "groups": ["staff", "ops"]}
    )

    assert created.status_code == 201
    user = created.json()
    assert user["email"] == EDITH
    assert user["email_verified"] is False
    assert user["groups"] == ["ops", "staff"]
    assert (user["providers"], user["sessions"], user["identities"]) == ([], 0, [])
    assert user["disabled"] is False
    assert user["last_login"] == user["created_at"]
    assert (await admin.get(user_path(EDITH))).json() == user
    (event,) = await events_of(admin, type="user.created")
    assert event["email"] == EDITH
    assert event["actor"] == {"kind": "admin_key", "id": await key_id(admin)}
    assert event["data"] == {"groups": ["ops", "staff"]}


async def test_creating_an_existing_user_is_409(admin: httpx.AsyncClient) -> None:
    await admin.post("/admin/v1/users", json={"email": EDITH})

    again = await admin.post("/admin/v1/users", json={"email": "EDITH@example.com", "groups": []})

    assert_problem(again, 409, "user-exists")
    assert len(await events_of(admin, type="user.created")) == 1


async def test_a_created_user_signs_in_through_a_vouching_provider_and_becomes_verified(
    admin: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    await admin.post("/admin/v1/users", json={"email": EDITH, "groups": ["staff"]})

    login = await sign_in(client, "edith")

    assert login.status_code == 200
    assert login.json()["groups"] == ["staff"]
    shown = (await admin.get(user_path(EDITH))).json()
    assert shown["email_verified"] is True
    assert shown["providers"] == ["fake"]
    assert shown["sessions"] == 1
    (identity,) = shown["identities"]
    assert identity["provider"] == "fake"
    assert set(identity) == {"id", "provider", "subject", "created_at", "last_used"}


async def test_users_are_listed_in_email_order_with_their_details_and_filtered(
    admin: httpx.AsyncClient, client: httpx.AsyncClient, app: FastAPI
) -> None:
    for assertion in ("edith", "bob"):
        assert (await sign_in(client, assertion)).status_code == 200
    await admin.post("/admin/v1/users", json={"email": "carol@other.example", "groups": ["ops"]})
    await admin.patch(user_path("bob@example.com"), json={"disabled": True})

    listed = (await admin.get("/admin/v1/users")).json()

    assert listed["next_cursor"] is None
    emails = [user["email"] for user in listed["items"]]
    assert emails == ["bob@example.com", "carol@other.example", EDITH]
    edith = listed["items"][2]
    assert set(edith) == {
        "email",
        "email_verified",
        "created_at",
        "last_login",
        "disabled",
        "groups",
        "providers",
        "sessions",
    }
    assert (edith["providers"], edith["sessions"], edith["disabled"]) == (["fake"], 1, False)
    assert listed["items"][0]["sessions"] == 0  # disabling ended bob's

    async def emails_for(**query: str) -> list[str]:
        response = await admin.get("/admin/v1/users", params=query)
        assert response.status_code == 200, response.text
        return [user["email"] for user in response.json()["items"]]

    assert await emails_for(email_prefix="Ed") == [EDITH]
    assert await emails_for(email_prefix="%") == []  # a wildcard is a character like any
    assert await emails_for(group="ops") == ["carol@other.example"]
    assert await emails_for(provider="fake") == ["bob@example.com", EDITH]
    assert await emails_for(disabled="true") == ["bob@example.com"]
    assert await emails_for(disabled="false", provider="fake") == [EDITH]


async def test_pages_stay_right_while_users_are_added_between_them(
    admin: httpx.AsyncClient, app: FastAPI, clock: FakeClock
) -> None:
    db_sessions = services_of(app).db_sessions
    for letter in "bdfhj":
        await create_user(db_sessions, f"{letter}@example.com", groups=[], at=clock(), actor=CLI)

    seen: list[str] = []
    page = (await admin.get("/admin/v1/users", params={"limit": 2})).json()
    seen += [user["email"] for user in page["items"]]
    # Before the cursor (never shown now) and after it (shown in its place).
    for letter in "acg":
        await create_user(db_sessions, f"{letter}@example.com", groups=[], at=clock(), actor=CLI)
    while page["next_cursor"] is not None:
        page = (
            await admin.get("/admin/v1/users", params={"limit": 2, "cursor": page["next_cursor"]})
        ).json()
        seen += [user["email"] for user in page["items"]]
        await admin.delete(user_path("h@example.com"))  # gone before its page: skipped, no harm

    assert seen == [f"{letter}@example.com" for letter in "bdfgj"]


async def test_an_email_with_a_slash_works_in_paths_as_percent_2f(
    admin: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    assert (await sign_in(client, "slash")).status_code == 200
    path = user_path("A/B@Example.com")
    assert "%2F" in path

    shown = await admin.get(path)
    sessions = await admin.get(user_path("a/b@example.com", "/sessions"))
    changed = await admin.patch(path, json={"groups": ["staff"]})
    deleted = await admin.delete(path)

    assert shown.status_code == 200
    assert shown.json()["email"] == "a/b@example.com"
    assert sessions.status_code == 200
    assert len(sessions.json()["items"]) == 1
    assert changed.json()["groups"] == ["staff"]
    assert deleted.status_code == 204
    assert_problem(await admin.get(path), 404, "no-such-user")


async def test_disabling_ends_sessions_refuses_sign_in_and_enabling_lets_them_in_again(
    admin: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    token = (await sign_in(client, "edith")).cookies["__Host-signet_session"]
    assert (await client.get("/auth/me", headers=with_token(token))).status_code == 200

    disabled = await admin.patch(user_path(EDITH), json={"disabled": True})

    assert disabled.status_code == 200
    assert (disabled.json()["disabled"], disabled.json()["sessions"]) == (True, 0)
    assert (await client.get("/auth/me", headers=with_token(token))).status_code == 401
    assert_problem(await sign_in(client, "edith"), 403, "account-disabled")
    (ended,) = await events_of(admin, type="session.ended", email=EDITH)
    assert ended["data"]["reason"] == "user_disabled"
    (event,) = await events_of(admin, type="user.disabled")
    assert event["actor"] == ended["actor"] == {"kind": "admin_key", "id": await key_id(admin)}
    # Asked again: so already, nothing changes and nothing is recorded.
    assert (await admin.patch(user_path(EDITH), json={"disabled": True})).status_code == 200
    assert len(await events_of(admin, type="user.disabled")) == 1

    enabled = await admin.patch(user_path(EDITH), json={"disabled": False})

    assert enabled.json()["disabled"] is False
    assert (await client.get("/auth/me", headers=with_token(token))).status_code == 401
    again = await sign_in(client, "edith")
    assert again.status_code == 200
    fresh = again.cookies["__Host-signet_session"]
    assert (await client.get("/auth/me", headers=with_token(fresh))).status_code == 200
    (event,) = await events_of(admin, type="user.enabled")
    assert event["email"] == EDITH


async def test_groups_become_exactly_those_given_and_a_providers_stay(
    admin: httpx.AsyncClient, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    await sign_in(client, "edith")
    await replace_provider_groups(db=db_session, email=EDITH, provider="corp", names=["admins"])
    await db_session.commit()
    await admin.patch(user_path(EDITH), json={"groups": ["staff", "ops"]})

    changed = await admin.patch(user_path(EDITH), json={"groups": ["ops", "billing"]})

    assert changed.status_code == 200
    assert changed.json()["groups"] == ["admins", "billing", "ops"]
    first, second = await events_of(admin, type="user.groups_changed")
    assert first["data"]["added"] == ["ops", "staff"]
    assert second["data"] == {
        "added": ["billing"],
        "removed": ["staff"],
        "groups": ["admins", "billing", "ops"],
        "source": "manual",
    }
    assert second["actor"]["kind"] == "admin_key"
    # An empty list takes away every managed group; the provider's stays.
    emptied = await admin.patch(user_path(EDITH), json={"groups": []})
    assert emptied.json()["groups"] == ["admins"]


async def test_disabling_and_regrouping_at_once(admin: httpx.AsyncClient) -> None:
    await admin.post("/admin/v1/users", json={"email": EDITH})

    both = await admin.patch(user_path(EDITH), json={"disabled": True, "groups": ["ops"]})

    assert (both.json()["disabled"], both.json()["groups"]) == (True, ["ops"])


async def test_deleting_ends_sessions_and_takes_identities_and_groups(
    admin: httpx.AsyncClient, client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    token = (await sign_in(client, "edith")).cookies["__Host-signet_session"]
    await admin.patch(user_path(EDITH), json={"groups": ["staff"]})

    deleted = await admin.delete(user_path(EDITH))

    assert deleted.status_code == 204
    assert deleted.content == b""
    assert (await client.get("/auth/me", headers=with_token(token))).status_code == 401
    assert_problem(await admin.get(user_path(EDITH)), 404, "no-such-user")
    assert await count_rows(db_session, IdentityRow) == 0
    assert await count_rows(db_session, UserGroup) == 0
    assert await list_groups(db=db_session, email=EDITH) == []
    types = [event["type"] for event in await events_of(admin, email=EDITH)]
    assert types[-2:] == ["session.ended", "user.deleted"]
    (ended,) = await events_of(admin, type="session.ended", email=EDITH)
    assert ended["data"]["reason"] == "user_deleted"
    (event,) = await events_of(admin, type="user.deleted")
    assert event["actor"] == ended["actor"] == {"kind": "admin_key", "id": await key_id(admin)}
    assert_problem(await admin.delete(user_path(EDITH)), 404, "no-such-user")


async def test_a_user_is_not_created_when_its_event_cannot_be_written(
    app: FastAPI, clock: FakeClock, db_session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing(**_: object) -> None:
        raise RuntimeError("the event write failed")

    monkeypatch.setattr("api.auth.provisioning.append_events", failing)

    with pytest.raises(RuntimeError):
        await create_user(
            services_of(app).db_sessions, EDITH, groups=["staff"], at=clock(), actor=CLI
        )

    assert await get_user(db=db_session, email=EDITH) is None
    assert await count_rows(db_session, UserGroup) == 0
