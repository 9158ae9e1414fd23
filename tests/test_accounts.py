"""Identities and the trust rules: an unverified email never joins someone else's account, and
a verified sign-in for the address takes it over from those who only claimed it."""

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.store.tables import IdentityRow, User
from api.testing import FakeClock, FakeProvider
from tests.databases import count_rows

COOKIE = "__Host-signet_session"


async def sign_in(client: httpx.AsyncClient, assertion: str) -> httpx.Response:
    return await client.post("/auth/login", json={"assertion": assertion})


async def me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/auth/me", headers={"cookie": f"{COOKIE}={token}"})


async def test_an_unverified_email_makes_a_new_user_marked_unverified(
    client: httpx.AsyncClient, verifier: FakeProvider
) -> None:
    verifier.accept("ms", email="edith@example.com", verified=False, subject="ms-1")

    response = await sign_in(client, "ms")

    assert response.status_code == 200
    assert response.json()["email_verified"] is False
    assert (await client.get("/auth/me")).json()["email_verified"] is False


async def test_an_unverified_email_never_joins_an_existing_user(
    client: httpx.AsyncClient, verifier: FakeProvider, db_session: AsyncSession
) -> None:
    verifier.accept("google", email="edith@example.com", subject="g-1")
    verifier.accept("mallory", email="edith@example.com", verified=False, subject="ms-9")
    await sign_in(client, "google")
    client.cookies.clear()

    refused = await sign_in(client, "mallory")

    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:signet:problem:account-exists"
    assert "set-cookie" not in refused.headers
    subjects = (await db_session.scalars(select(col(IdentityRow.subject)))).all()
    assert subjects == ["g-1"]


async def test_a_verified_sign_in_takes_over_from_unverified_identities(
    client: httpx.AsyncClient, verifier: FakeProvider, db_session: AsyncSession
) -> None:
    verifier.accept("squatter", email="edith@example.com", verified=False, subject="ms-9")
    verifier.accept("owner", email="edith@example.com", subject="g-1")
    squatter = (await sign_in(client, "squatter")).cookies[COOKIE]

    owner = await sign_in(client, "owner")

    assert owner.status_code == 200
    assert owner.json()["email_verified"] is True
    assert (await me(client, squatter)).status_code == 401
    assert (await me(client, owner.cookies[COOKIE])).status_code == 200
    subjects = (await db_session.scalars(select(col(IdentityRow.subject)))).all()
    assert subjects == ["g-1"]
    assert await count_rows(db_session, User) == 1


async def test_a_returning_identity_signs_in_as_its_user_and_is_stamped(
    client: httpx.AsyncClient, verifier: FakeProvider, db_session: AsyncSession, clock: FakeClock
) -> None:
    verifier.accept("g", email="edith@example.com", subject="g-1")
    await sign_in(client, "g")
    clock.advance(60)

    again = await sign_in(client, "g")

    assert again.status_code == 200
    (identity,) = (await db_session.scalars(select(IdentityRow))).all()
    assert (identity.provider, identity.email) == ("fake", "edith@example.com")
    assert (identity.last_used - identity.created_at).total_seconds() == 60


async def test_a_user_lists_and_removes_their_identities_but_never_the_last(
    client: httpx.AsyncClient, verifier: FakeProvider, clock: FakeClock
) -> None:
    verifier.accept("google", email="edith@example.com", subject="g-1")
    verifier.accept("github", email="edith@example.com", subject="gh-1")
    await sign_in(client, "google")
    clock.advance(1)
    await sign_in(client, "github")

    listed = (await client.get("/auth/identities")).json()
    removed = await client.delete(f"/auth/identities/{listed[0]['id']}")
    last = await client.delete(f"/auth/identities/{listed[1]['id']}")

    assert [item["subject"] for item in listed] == ["g-1", "gh-1"]
    assert set(listed[0]) == {"id", "provider", "subject", "created_at", "last_used"}
    assert removed.status_code == 204
    assert last.status_code == 409
    assert [item["subject"] for item in (await client.get("/auth/identities")).json()] == ["gh-1"]


async def test_another_users_identity_is_not_found_like_a_missing_one(
    client: httpx.AsyncClient, verifier: FakeProvider
) -> None:
    verifier.accept("francis", email="francis@example.com", subject="f-1")
    verifier.accept("edith", email="edith@example.com", subject="e-1")
    await sign_in(client, "francis")
    (theirs,) = (await client.get("/auth/identities")).json()
    await sign_in(client, "edith")

    other = await client.delete(f"/auth/identities/{theirs['id']}")
    missing = await client.delete("/auth/identities/no-such-id")

    assert (other.status_code, missing.status_code) == (404, 404)
    assert other.json() == missing.json()
