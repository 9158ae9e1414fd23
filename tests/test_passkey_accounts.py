"""Passkeys and the rest of an account: who may add one, managing them, and what deleting,
disabling, the access policy and a takeover do to them."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.events import CLI
from api.services import services_of
from api.store.events import events_after
from api.store.passkeys import use_passkey
from api.store.tables import User
from api.testing import FakeProvider
from tests.admin_calls import assert_problem
from tests.authenticator import Authenticator, b64url
from tests.passkey_calls import (
    AT,
    EDITH,
    OTTO,
    add_passkey,
    passkey_count,
    request_options,
    sign_in,
    sign_in_with,
    store_passkey,
)


async def test_passkeys_are_renamed_and_removed_by_their_owner_only(
    client: httpx.AsyncClient,
    verifier: FakeProvider,
    authenticator: Authenticator,
    app: FastAPI,
) -> None:
    await sign_in(client, verifier, EDITH)
    added = await add_passkey(client, authenticator)
    assert added["name"] == "Passkey"
    path = f"/auth/passkeys/{added['id']}"

    renamed = await client.patch(path, json={"name": "Work laptop"})
    assert renamed.status_code == 200
    assert renamed.json() == {**added, "name": "Work laptop"}
    assert_problem(await client.patch(path, json={"name": " "}), 422)
    await sign_in(client, verifier, OTTO)
    assert_problem(await client.patch(path, json={"name": "Mine"}), 404, "no-such-passkey")
    assert_problem(await client.delete(path), 404, "no-such-passkey")
    await sign_in(client, verifier, EDITH)
    assert (await client.delete(path)).status_code == 204
    assert (await client.get("/auth/passkeys")).json() == []
    assert_problem(await client.delete(path), 404, "no-such-passkey")
    client.cookies.clear()
    assert_problem(await sign_in_with(client, authenticator), 401, "passkey-rejected")
    async with services_of(app).db_sessions() as db:
        types = [e.type for e in await events_after(db=db, after=0, limit=100)]
    assert [t for t in types if t.startswith("passkey.")] == [
        "passkey.added",
        "passkey.renamed",
        "passkey.removed",
    ]


async def test_deleting_a_user_removes_their_passkeys(
    client: httpx.AsyncClient,
    verifier: FakeProvider,
    authenticator: Authenticator,
    app: FastAPI,
    db_session: AsyncSession,
) -> None:
    await sign_in(client, verifier, EDITH)
    await add_passkey(client, authenticator)

    await services_of(app).sessions.delete_user(EDITH, at=AT, actor=CLI)

    assert await passkey_count(db_session) == 0
    client.cookies.clear()
    assert_problem(await sign_in_with(client, authenticator), 401)


async def test_a_disabled_user_cannot_sign_in_with_a_passkey(
    client: httpx.AsyncClient,
    verifier: FakeProvider,
    authenticator: Authenticator,
    app: FastAPI,
) -> None:
    await sign_in(client, verifier, EDITH)
    await add_passkey(client, authenticator)
    client.cookies.clear()
    await services_of(app).sessions.set_disabled(EDITH, disabled=True, at=AT, actor=CLI)

    refused = await sign_in_with(client, authenticator)

    assert_problem(refused, 403, "account-disabled")
    assert (await client.get("/auth/me")).status_code == 401


@pytest.mark.settings(allowed_emails=(OTTO,))
async def test_the_access_policy_applies_to_passkeys(
    client: httpx.AsyncClient,
    authenticator: Authenticator,
    db_session: AsyncSession,
) -> None:
    db_session.add(User(email=EDITH, created_at=AT, last_login=AT))
    await db_session.commit()
    await store_passkey(db_session, authenticator, EDITH)

    refused = await sign_in_with(client, authenticator)

    assert_problem(refused, 403, "not-allowed")


async def test_a_trusted_takeover_removes_the_passkeys_added_before_it(
    client: httpx.AsyncClient,
    verifier: FakeProvider,
    authenticator: Authenticator,
    db_session: AsyncSession,
) -> None:
    verifier.accept("unverified", email=EDITH, verified=False, subject="edith-at-idp")
    assert (await client.post("/auth/login", json={"assertion": "unverified"})).status_code == 200
    await store_passkey(db_session, authenticator, EDITH)
    client.cookies.clear()

    await sign_in(client, verifier, EDITH)  # a provider that vouches for the address

    assert await passkey_count(db_session) == 0
    client.cookies.clear()
    assert_problem(await sign_in_with(client, authenticator), 401)


@pytest.mark.settings(passkeys=False)
async def test_with_passkeys_off_every_passkey_route_is_a_404(
    client: httpx.AsyncClient, verifier: FakeProvider
) -> None:
    await sign_in(client, verifier, EDITH)
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", "/auth/passkeys/registration/options", {}),
        ("POST", "/auth/passkeys/registration", {"credential": {}}),
        ("POST", "/auth/passkeys/authentication/options", {}),
        ("POST", "/auth/passkeys/authentication", {"credential": {}}),
        ("POST", "/auth/passkeys/token", {"credential": {}}),
        ("GET", "/auth/passkeys", None),
        ("PATCH", "/auth/passkeys/x", {"name": "x"}),
        ("DELETE", "/auth/passkeys/x", None),
    ]
    for method, path, body in calls:
        response = await client.request(method, path, json=body)
        assert_problem(response, 404, "no-passkeys")


@pytest.mark.settings(rate_limit_per_address=3)
async def test_sign_in_options_are_rate_limited_per_address(client: httpx.AsyncClient) -> None:
    answers = [
        (await client.post("/auth/passkeys/authentication/options", json={})).status_code
        for _ in range(4)
    ]

    assert answers == [200, 200, 200, 429]


@pytest.mark.settings(metrics=True)
async def test_a_counter_that_does_not_go_up_is_counted(
    client: httpx.AsyncClient, verifier: FakeProvider, authenticator: Authenticator
) -> None:
    await sign_in(client, verifier, EDITH)
    await add_passkey(client, authenticator)
    assert (await sign_in_with(client, authenticator)).status_code == 200
    options = await request_options(client)

    cloned = await client.post(
        "/auth/passkeys/authentication",
        json={"credential": authenticator.get(options, sign_count=1)},
    )

    assert_problem(cloned, 401, "passkey-rejected")
    text = (await client.get("/metrics")).text
    assert "signet_passkey_counter_regressions_total 1.0" in text


async def test_of_two_sign_ins_with_one_counter_value_only_the_first_is_recorded(
    db_session: AsyncSession, authenticator: Authenticator
) -> None:
    # Two answers signed with the same counter pass their checks side by side; the sign-in
    # writer records the first, and the second finds the counter moved.
    db_session.add(User(email=EDITH, created_at=AT, last_login=AT))
    await db_session.commit()
    await store_passkey(db_session, authenticator, EDITH)
    credential_id = b64url(authenticator.credentials[0].id)

    first = await use_passkey(
        db=db_session, credential_id=credential_id, email=EDITH, sign_count=5, now=AT
    )
    second = await use_passkey(
        db=db_session, credential_id=credential_id, email=EDITH, sign_count=5, now=AT
    )
    elsewhere = await use_passkey(
        db=db_session, credential_id=credential_id, email=OTTO, sign_count=6, now=AT
    )

    assert (first, second, elsewhere) == (True, False, False)
