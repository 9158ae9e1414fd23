"""GET /auth/sessions and DELETE /auth/sessions/{id}: where I am signed in, and ending one."""

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.auth import sessions as sessions_module
from api.auth.sessions import SIGHTINGS_TASK
from api.services import services_of
from api.store.tables import SessionRow
from api.testing import FakeClock, FakeProvider
from api.web.devices import device_name

COOKIE = "__Host-signet_session"


@pytest.fixture
def verifier(verifier: FakeProvider) -> FakeProvider:
    verifier.accept("edith", email="edith@example.com")
    verifier.accept("francis", email="francis@example.com")
    return verifier


async def sign_in(client: httpx.AsyncClient, browser: str, who: str = "edith") -> str:
    """Sign in from a browser of its own; returns its session cookie."""
    client.cookies.clear()
    response = await client.post(
        "/auth/login", json={"assertion": who}, headers={"user-agent": browser}
    )
    return response.cookies[COOKIE]


def as_(token: str) -> dict[str, str]:
    return {"cookie": f"{COOKIE}={token}"}


async def test_my_sessions_say_where_and_which_is_this_one(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    phone = await sign_in(client, "Phone/1.0")
    clock.advance(60)
    laptop = await sign_in(client, "Laptop/2.0")
    clock.advance(60)
    bearer = await client.post("/auth/token", json={"assertion": "edith"})
    assert bearer.status_code == 200

    listed = (await client.get("/auth/sessions", headers=as_(laptop))).json()

    assert [(item["user_agent"], item["current"], item["kind"]) for item in listed] == [
        ("python-httpx/" + httpx.__version__, False, "bearer"),
        ("Laptop/2.0", True, "cookie"),
        ("Phone/1.0", False, "cookie"),
    ]
    assert set(listed[0]) == {
        "id",
        "created_at",
        "last_seen",
        "user_agent",
        "device",
        "address",
        "current",
        "kind",
    }
    assert [item["device"] for item in listed] == ["python-httpx", "Laptop", "Phone"]
    assert {item["address"] for item in listed} == {"127.0.0.1"}
    assert phone not in str(listed)  # the list names sessions, it never hands out tokens


@pytest.mark.settings(trusted_proxies="127.0.0.1")
async def test_behind_a_trusted_proxy_a_session_keeps_the_forwarded_address(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/auth/login",
        json={"assertion": "edith"},
        headers={"x-forwarded-for": "198.51.100.7, 2001:db8::1"},
    )

    (listed,) = (await client.get("/auth/sessions", headers=as_(response.cookies[COOKIE]))).json()
    assert listed["address"] == "2001:db8::1"


async def test_ending_one_of_my_sessions_ends_it_at_once(client: httpx.AsyncClient) -> None:
    phone = await sign_in(client, "Phone/1.0")
    laptop = await sign_in(client, "Laptop/2.0")
    (phone_session,) = [
        item
        for item in (await client.get("/auth/sessions", headers=as_(laptop))).json()
        if not item["current"]
    ]

    ended = await client.delete(f"/auth/sessions/{phone_session['id']}", headers=as_(laptop))

    assert ended.status_code == 204
    assert (await client.get("/auth/me", headers=as_(phone))).status_code == 401
    assert (await client.get("/auth/me", headers=as_(laptop))).status_code == 200


async def test_another_users_session_is_not_found_like_a_missing_one(
    client: httpx.AsyncClient,
) -> None:
    francis = await sign_in(client, "Theirs/1.0", who="francis")
    (theirs,) = (await client.get("/auth/sessions", headers=as_(francis))).json()
    edith = await sign_in(client, "Mine/1.0")

    other = await client.delete(f"/auth/sessions/{theirs['id']}", headers=as_(edith))
    missing = await client.delete("/auth/sessions/no-such-id", headers=as_(edith))

    assert (other.status_code, missing.status_code) == (404, 404)
    assert other.json() == missing.json()
    assert (await client.get("/auth/me", headers=as_(francis))).status_code == 200


async def test_last_seen_follows_the_checks_and_is_written_in_batches(
    app: FastAPI, client: httpx.AsyncClient, clock: FakeClock, db_session: AsyncSession
) -> None:
    token = await sign_in(client, "Phone/1.0")
    signed_in_at = clock()
    clock.advance(300)
    await client.get("/auth/me", headers=as_(token))

    (listed,) = (await client.get("/auth/sessions", headers=as_(token))).json()
    stored_before = (await db_session.scalars(select(col(SessionRow.last_seen)))).one()
    written = await services_of(app).sessions.write_sightings()
    db_session.expunge_all()
    stored_after = (await db_session.scalars(select(col(SessionRow.last_seen)))).one()

    assert listed["created_at"] == signed_in_at.isoformat().replace("+00:00", "Z")
    assert listed["last_seen"] == clock().isoformat().replace("+00:00", "Z")
    assert (stored_before, written, stored_after) == (signed_in_at, 1, clock())


async def test_a_full_batch_of_sightings_is_written_without_waiting_for_the_interval(
    client: httpx.AsyncClient,
    clock: FakeClock,
    db_session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sessions_module, "MAX_SIGHTINGS", 2)
    tokens = [await sign_in(client, f"Browser/{n}") for n in range(2)]
    clock.advance(300)

    for token in tokens:
        await client.get("/auth/me", headers=as_(token))
    await asyncio.gather(
        *(task for task in asyncio.all_tasks() if task.get_name() == SIGHTINGS_TASK)
    )

    stored = (await db_session.scalars(select(col(SessionRow.last_seen)))).all()
    assert stored == [clock(), clock()]


@pytest.mark.settings(allowed_origins="https://spa.example")
async def test_cors_lets_an_allowed_spa_end_a_session(client: httpx.AsyncClient) -> None:
    preflight = await client.options(
        "/auth/sessions/some-id",
        headers={"origin": "https://spa.example", "access-control-request-method": "DELETE"},
    )

    assert preflight.status_code == 200
    assert "DELETE" in preflight.headers["access-control-allow-methods"]


@pytest.mark.parametrize("path", ["/auth/sessions", "/auth/identities"])
async def test_my_own_lists_are_never_cached_on_the_way(
    client: httpx.AsyncClient, path: str
) -> None:
    token = await sign_in(client, "Phone/1.0")

    response = await client.get(path, headers=as_(token))

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36",
            "Chrome on Linux",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/126.0.0.0 Safari/537.36",
            "Chrome on Linux",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari on iPhone",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/17.5 Safari/605.1.15",
            "Safari on macOS",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
            "Firefox on Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
            "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
            "Samsung Internet on Android",
        ),
        (
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36",
            "Chrome on ChromeOS",
        ),
        ("Mozilla/5.0 (X11; Linux x86_64)", "A browser on Linux"),
        ("curl/8.8.0", "curl"),
        ("Mozilla/5.0", None),
        ("<script>", None),
        ("", None),
        (None, None),
    ],
)
def test_a_user_agent_is_named_as_a_person_names_their_device(
    user_agent: str | None, device: str | None
) -> None:
    assert device_name(user_agent) == device
