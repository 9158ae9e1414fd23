"""A disabled user: every session gone at once, every sign-in refused (403 account-disabled),
until an operator enables them again; their old sessions stay ended."""

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.auth.events import CLI
from api.services import services_of
from api.store.operator_tables import EventRow
from api.store.tables import SessionRow, User
from api.testing import FakeClock, FakeProvider
from tests.databases import count_rows

COOKIE = "__Host-signet_session"
EDITH = "edith@example.com"


async def sign_in(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post("/auth/login", json={"assertion": "edith"})


async def test_disabling_ends_every_session_and_refuses_sign_ins_until_enabled(
    app: FastAPI,
    client: httpx.AsyncClient,
    verifier: FakeProvider,
    clock: FakeClock,
    db_session: AsyncSession,
) -> None:
    verifier.accept("edith", email=EDITH)
    token = (await sign_in(client)).cookies[COOKIE]
    bearer = (await client.post("/auth/token", json={"assertion": "edith"})).json()
    sessions = services_of(app).sessions

    assert await sessions.set_disabled(EDITH, disabled=True, at=clock(), actor=CLI)

    assert (
        await client.get("/auth/me", headers={"cookie": f"{COOKIE}={token}"})
    ).status_code == 401
    by_bearer = {"authorization": f"Bearer {bearer['access_token']}"}
    assert (await client.get("/auth/check", headers=by_bearer)).status_code == 401
    client.cookies.clear()
    refused = await sign_in(client)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:signet:problem:account-disabled"
    assert "set-cookie" not in refused.headers
    assert await count_rows(db_session, SessionRow) == 0
    types = (await db_session.scalars(select(col(EventRow.type)).order_by(col(EventRow.id)))).all()
    assert types[-4:] == ["session.ended", "session.ended", "user.disabled", "sign_in.failed"]

    assert not await sessions.set_disabled(EDITH, disabled=True, at=clock(), actor=CLI)
    assert await sessions.set_disabled(EDITH, disabled=False, at=clock(), actor=CLI)

    assert (
        await client.get("/auth/me", headers={"cookie": f"{COOKIE}={token}"})
    ).status_code == 401
    assert (await sign_in(client)).status_code == 200


# No session cache: the check reads the row each time, as it does on a cache miss.
@pytest.mark.settings(session_cache_ttl=0)
async def test_a_session_of_a_disabled_user_is_gone_even_if_its_row_was_left(
    client: httpx.AsyncClient,
    verifier: FakeProvider,
    db_session: AsyncSession,
) -> None:
    """A sign-in committing while its user is disabled may leave a row behind the disable's
    DELETE: the session check reads the flag with the row, so such a row signs nobody in."""
    verifier.accept("edith", email=EDITH)
    token = (await sign_in(client)).cookies[COOKIE]
    user = await db_session.get(User, EDITH)
    assert user is not None
    user.disabled = True
    await db_session.commit()
    assert await count_rows(db_session, SessionRow) == 1

    assert (
        await client.get("/auth/me", headers={"cookie": f"{COOKIE}={token}"})
    ).status_code == 401


async def test_enabling_does_not_revive_a_session_a_racing_sign_in_left(
    app: FastAPI,
    clock: FakeClock,
    verifier: FakeProvider,
    client: httpx.AsyncClient,
    db_session: AsyncSession,
) -> None:
    """As if a sign-in had read the user just before the disable committed and written its
    session just after: enabling the user must not bring that session to life."""
    verifier.accept("edith", email=EDITH)
    await sign_in(client)
    sessions = services_of(app).sessions
    await sessions.set_disabled(EDITH, disabled=True, at=clock(), actor=CLI)
    left_behind = {"id": "left-behind", "email": EDITH, "created_at": clock()}
    left_behind["expires_at"] = clock() + timedelta(days=1)
    await db_session.execute(insert(SessionRow), [left_behind])
    await db_session.commit()

    assert await sessions.set_disabled(EDITH, disabled=False, at=clock(), actor=CLI)

    assert await count_rows(db_session, SessionRow) == 0
