"""Sessions over HTTP: sliding refresh, hard caps, rotation, and logouts that end sessions."""

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.config import Settings
from api.store.tables import SessionRow
from api.store.users import delete_user
from api.testing import FakeClock, FakeProvider
from tests.apps import serving
from tests.databases import count_rows

DAY = 24 * 3600
COOKIE = "__Host-signet_session"
OLD_KEY = "the-previous-secret-key-0123456789abcdef"


@pytest.fixture
def verifier(verifier: FakeProvider) -> FakeProvider:
    verifier.accept("edith", email="edith@example.com")
    return verifier


async def sign_in(client: httpx.AsyncClient) -> str:
    """Sign Edith in as from a browser of its own; returns the session cookie's value."""
    client.cookies.clear()
    response = await client.post("/auth/login", json={"assertion": "edith"})
    assert response.status_code == 200
    return response.cookies[COOKIE]


def with_cookie(token: str) -> dict[str, str]:
    return {"cookie": f"{COOKIE}={token}"}


async def me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/auth/me", headers=with_cookie(token))


async def test_every_login_starts_a_new_session(client: httpx.AsyncClient) -> None:
    first = await sign_in(client)
    second = await sign_in(client)

    assert first != second
    assert (await me(client, first)).status_code == 200
    assert (await me(client, second)).status_code == 200


async def test_a_recently_refreshed_session_gets_no_new_cookie(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    token = await sign_in(client)
    clock.advance(3 * DAY)  # under a quarter of the 14-day idle window

    response = await me(client, token)

    assert response.status_code == 200
    assert "set-cookie" not in response.headers


async def test_a_session_used_late_in_its_idle_window_gets_a_fresh_cookie(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    token = await sign_in(client)
    clock.advance(4 * DAY)  # past a quarter of the idle window

    response = await me(client, token)
    fresh = response.cookies[COOKIE]

    assert fresh != token
    assert response.headers["cache-control"] == "no-store"
    # The fresh cookie slides the idle window: 13 days later only it still works.
    clock.advance(13 * DAY)
    assert (await me(client, token)).status_code == 401
    assert (await me(client, fresh)).status_code == 200


async def test_the_absolute_timeout_is_never_extended(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    token = await sign_in(client)
    for _ in range(7):  # used every 4 days, so always refreshed...
        clock.advance(4 * DAY)
        response = await me(client, token)
        assert response.status_code == 200
        token = response.cookies.get(COOKIE) or token
    assert int(response.headers["set-cookie"].split("Max-Age=")[1].split(";")[0]) == 2 * DAY

    clock.advance(2 * DAY + 1)  # ...but 30 days after login it is over.

    assert (await me(client, token)).status_code == 401


async def test_an_idle_session_expires(client: httpx.AsyncClient, clock: FakeClock) -> None:
    token = await sign_in(client)
    clock.advance(14 * DAY + 1)

    assert (await me(client, token)).status_code == 401


async def test_rotation_keeps_sessions_and_re_issues_them_with_the_new_key(
    engine: AsyncEngine, settings: Settings, verifier: FakeProvider, clock: FakeClock
) -> None:
    def restart(changed: Settings) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        """The app after a restart with new settings: new keys, an empty cache."""
        return serving(changed, clock=clock, provider=verifier)

    async with restart(settings.model_copy(update={"secret_key": SecretStr(OLD_KEY)})) as client:
        token = await sign_in(client)
    rotated = settings.model_copy(update={"secret_key_fallbacks": (SecretStr(OLD_KEY),)})
    async with restart(rotated) as client:
        response = await me(client, token)
    reissued = response.cookies[COOKIE]
    async with restart(settings) as client:  # the old key is gone from both lists now
        assert response.status_code == 200
        assert (await me(client, reissued)).status_code == 200
        assert (await me(client, token)).status_code == 401


async def test_a_copy_of_the_cookie_is_useless_after_logout(client: httpx.AsyncClient) -> None:
    stolen = await sign_in(client)

    logout = await client.post("/auth/logout")

    assert logout.status_code == 204
    assert (await me(client, stolen)).status_code == 401


async def test_logout_ends_only_its_own_session(client: httpx.AsyncClient) -> None:
    phone = await sign_in(client)
    laptop = await sign_in(client)

    await client.post("/auth/logout", headers=with_cookie(phone))

    assert (await me(client, phone)).status_code == 401
    assert (await me(client, laptop)).status_code == 200


async def test_logout_everywhere_ends_every_session_of_the_user(
    client: httpx.AsyncClient, verifier: FakeProvider, db_session: AsyncSession
) -> None:
    phone, laptop, tablet = [await sign_in(client) for _ in range(3)]
    verifier.accept("francis", email="francis@example.com")
    client.cookies.clear()
    other_user = (await client.post("/auth/login", json={"assertion": "francis"})).cookies[COOKIE]

    response = await client.post("/auth/logout-everywhere", headers=with_cookie(laptop))

    assert response.status_code == 204
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert response.headers["cache-control"] == "no-store"
    for token in (phone, laptop, tablet):
        assert (await me(client, token)).status_code == 401
    assert (await me(client, other_user)).status_code == 200
    assert await count_rows(db_session, SessionRow) == 1
    # A session started afterwards works.
    assert (await me(client, await sign_in(client))).status_code == 200


async def test_logout_everywhere_needs_a_session(client: httpx.AsyncClient) -> None:
    assert (await client.post("/auth/logout-everywhere")).status_code == 401


async def test_deleting_a_user_ends_their_sessions(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    token = await sign_in(client)

    assert await delete_user(db=db_session, email="edith@example.com")
    await db_session.commit()

    assert (await me(client, token)).status_code == 401
    assert await count_rows(db_session, SessionRow) == 0


@pytest.fixture
async def second_worker(
    settings: Settings, verifier: FakeProvider, clock: FakeClock
) -> AsyncIterator[httpx.AsyncClient]:
    """Another app process on the same database, with its own engine and connections."""
    # Its session cache reads the test's clock, so the test can let entries expire.
    async with serving(
        settings, clock=clock, timer=lambda: clock().timestamp(), provider=verifier
    ) as client:
        yield client


async def test_logout_on_one_worker_ends_the_session_on_another_within_the_cache_ttl(
    client: httpx.AsyncClient,
    second_worker: httpx.AsyncClient,
    clock: FakeClock,
    settings: Settings,
) -> None:
    token = await sign_in(client)
    assert (await me(second_worker, token)).status_code == 200  # now cached there

    await client.post("/auth/logout", headers=with_cookie(token))
    clock.advance(settings.session_cache_ttl)

    assert (await me(second_worker, token)).status_code == 401


async def test_a_worker_not_caching_sees_a_logout_elsewhere_at_once(
    client: httpx.AsyncClient, settings: Settings, clock: FakeClock
) -> None:
    strict = settings.model_copy(update={"session_cache_ttl": 0})
    token = await sign_in(client)
    async with serving(strict, clock=clock) as other_worker:
        assert (await me(other_worker, token)).status_code == 200

        await client.post("/auth/logout", headers=with_cookie(token))

        assert (await me(other_worker, token)).status_code == 401


@pytest.mark.parametrize("fraction", [0.0, 0.4, 0.999])
async def test_the_cookie_never_outlives_the_session_nor_ends_a_second_early(
    client: httpx.AsyncClient, clock: FakeClock, fraction: float
) -> None:
    clock.advance(fraction)  # a login at any instant within a second
    response = await client.post("/auth/login", json={"assertion": "edith"})
    for refreshes in range(8):  # the login's cookie, then refreshed ones up to the absolute cap
        token = response.cookies[COOKIE]
        max_age = int(response.headers["set-cookie"].split("Max-Age=")[1].split(";")[0])
        issued = clock.now

        clock.advance(max_age - 0.001)  # the browser is about to drop it: the server takes it
        assert (await me(client, token)).status_code == 200
        clock.now = issued
        clock.advance(max_age + 1)  # a second later the server refuses it too
        assert (await me(client, token)).status_code == 401

        clock.now = issued
        clock.advance(4 * DAY)
        if refreshes < 7:
            response = await me(client, token)
    assert max_age < 4 * DAY  # the last cookie was cut short by the absolute cap


async def test_a_login_over_a_live_session_cookie_ends_that_session(
    client: httpx.AsyncClient, verifier: FakeProvider
) -> None:
    verifier.accept("zoe", email="zoe@example.com")
    old = await sign_in(client)

    switched = await client.post("/auth/login", json={"assertion": "zoe"}, headers=with_cookie(old))

    assert switched.status_code == 200
    assert (await me(client, switched.cookies[COOKIE])).json()["email"] == "zoe@example.com"
    assert (await me(client, old)).status_code == 401


async def test_a_failed_login_leaves_the_session_it_would_have_replaced(
    client: httpx.AsyncClient,
) -> None:
    old = await sign_in(client)

    refused = await client.post(
        "/auth/login", json={"assertion": "forged"}, headers=with_cookie(old)
    )

    assert refused.status_code == 401
    assert (await me(client, old)).status_code == 200
