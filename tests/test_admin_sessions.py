"""A user's sessions through the admin API (issue 23): listed with the address each signed in
from, ended one at a time; and a user disabled or deleted on one worker is refused on another
(another host, on PostgreSQL) within the revocation bound, 100 ms."""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.auth.events import CLI
from api.config import Settings
from api.services import services_of
from api.testing import FakeClock, FakeProvider
from tests.admin_calls import COOKIE, assert_problem, events_of, sign_in, user_path, with_token
from tests.apps import client_of, running, suite_settings
from tests.databases import empty_database, engine_with_tables

EDITH = "edith@example.com"
# The bound for a disabled or deleted user's sessions on every worker and host.
REVOCATION_BOUND = 0.1


@pytest.fixture
def verifier(verifier: FakeProvider) -> FakeProvider:
    verifier.accept("edith", email=EDITH)
    return verifier


async def test_a_users_sessions_show_where_they_signed_in_from_newest_first(
    admin: httpx.AsyncClient, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    first = await client.post(
        "/auth/login", json={"assertion": "edith"}, headers={"user-agent": "Firefox/1 Linux"}
    )
    client.cookies.clear()
    clock.advance(5)
    second = await sign_in(client, "edith")

    listed = await admin.get(user_path(EDITH, "/sessions"))

    assert listed.status_code == 200
    newest, oldest = listed.json()["items"]
    assert listed.json()["next_cursor"] is None
    assert set(newest) == {
        "id",
        "created_at",
        "last_seen",
        "expires_at",
        "user_agent",
        "device",
        "address",
        "kind",
        "provider",
    }
    assert oldest["user_agent"] == "Firefox/1 Linux"
    assert oldest["address"] == newest["address"] == "127.0.0.1"
    assert (newest["kind"], newest["provider"]) == ("cookie", "fake")
    mine = (await client.get("/auth/sessions", headers=with_token(second.cookies[COOKIE]))).json()
    assert [session["id"] for session in mine] == [newest["id"], oldest["id"]]
    assert first.status_code == 200


async def test_session_pages_hold_while_sessions_start_between_them(
    admin: httpx.AsyncClient, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    for _ in range(3):
        await sign_in(client, "edith")
        clock.advance(1)
    page = (await admin.get(user_path(EDITH, "/sessions"), params={"limit": 2})).json()
    seen = [session["id"] for session in page["items"]]
    await sign_in(client, "edith")  # newer than the cursor: on no later page

    rest = await admin.get(
        user_path(EDITH, "/sessions"), params={"limit": 2, "cursor": page["next_cursor"]}
    )

    seen += [session["id"] for session in rest.json()["items"]]
    assert rest.json()["next_cursor"] is None
    everything = (await admin.get(user_path(EDITH, "/sessions"))).json()["items"]
    assert seen == [session["id"] for session in everything[1:]]


async def test_ending_a_session_refuses_its_token_and_is_recorded(
    admin: httpx.AsyncClient, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    token = (await sign_in(client, "edith")).cookies[COOKIE]
    clock.advance(1)
    kept = (await sign_in(client, "edith")).cookies[COOKIE]
    listed = (await admin.get(user_path(EDITH, "/sessions"))).json()["items"]
    ended_id = listed[1]["id"]

    ended = await admin.delete(f"/admin/v1/sessions/{ended_id}")

    assert ended.status_code == 204
    assert (await client.get("/auth/me", headers=with_token(token))).status_code == 401
    assert (await client.get("/auth/me", headers=with_token(kept))).status_code == 200
    (event,) = await events_of(admin, type="session.ended")
    assert event["data"] == {"session_id": ended_id, "reason": "admin"}
    assert event["actor"]["kind"] == "admin_key"
    assert_problem(await admin.delete(f"/admin/v1/sessions/{ended_id}"), 404, "no-such-session")


async def test_an_unknown_users_sessions_are_404(admin: httpx.AsyncClient) -> None:
    assert_problem(await admin.get(user_path(EDITH, "/sessions")), 404, "no-such-user")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
async def shared_settings(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Settings]:
    # A cache far longer than any test: a session refused was told, not timed out.
    async with empty_database(request.param, tmp_path) as url, engine_with_tables(url):
        yield suite_settings(url, session_cache_ttl=60.0)


async def refused_within(client: httpx.AsyncClient, token: str, bound: float) -> float | None:
    """Seconds until the worker behind `client` refuses `token`, or None if not within `bound`."""
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < bound:
        if (await client.get("/auth/me", headers=with_token(token))).status_code == 401:
            return elapsed
        await asyncio.sleep(0.001)  # lets the event loop read the notification
    return None


@pytest.mark.parametrize("change", ["disable", "delete"])
async def test_a_user_disabled_or_deleted_on_one_worker_is_refused_on_another_within_100_ms(
    shared_settings: Settings, verifier: FakeProvider, change: str
) -> None:
    async with (
        running(shared_settings, provider=verifier) as first,
        running(shared_settings, provider=verifier) as second,
        client_of(first) as one,
        client_of(second) as two,
    ):
        key = (await services_of(first).admin_keys.create("ops", actor=CLI)).key
        one.headers["authorization"] = f"Bearer {key}"
        token = (await sign_in(one, "edith")).cookies[COOKIE]
        assert (await two.get("/auth/me", headers=with_token(token))).status_code == 200

        if change == "disable":
            done = await one.patch(user_path(EDITH), json={"disabled": True})
        else:
            done = await one.delete(user_path(EDITH))

        assert done.is_success
        assert await refused_within(two, token, REVOCATION_BOUND) is not None
        if change == "disable":
            assert_problem(await sign_in(two, "edith"), 403, "account-disabled")
