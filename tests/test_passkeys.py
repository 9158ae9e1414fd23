"""Passkeys over the API, with a software authenticator: adding one and signing in with one."""

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from api.config import Settings
from api.services import services_of
from api.store.events import events_after
from api.testing import FakeProvider
from tests.apps import APP_ORIGIN, serving, two_workers
from tests.authenticator import Authenticator, b64url, from_b64url
from tests.passkey_calls import (
    EDITH,
    add_passkey,
    counts,
    present,
    request_options,
    sign_in,
)


async def test_creation_options_follow_webauthn_level_3(
    client: httpx.AsyncClient, verifier: FakeProvider
) -> None:
    await sign_in(client, verifier, EDITH)

    response = await client.post("/auth/passkeys/registration/options", json={})

    assert response.status_code == 200
    options = response.json()
    assert options["rp"] == {"id": "app.example", "name": "app.example"}
    assert options["user"]["name"] == EDITH
    assert EDITH.encode() not in from_b64url(options["user"]["id"])
    assert len(from_b64url(options["user"]["id"])) == 32
    assert [p["alg"] for p in options["pubKeyCredParams"]] == [-8, -7, -257]
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["attestation"] == "none"
    assert options["excludeCredentials"] == []
    assert options["timeout"] == 300_000


async def test_a_passkey_is_added_listed_and_excluded_from_the_next_creation(
    client: httpx.AsyncClient, verifier: FakeProvider, authenticator: Authenticator
) -> None:
    await sign_in(client, verifier, EDITH)

    added = await add_passkey(client, authenticator, name="  Laptop  ")

    assert added["name"] == "Laptop"
    assert added["last_used"] is None
    assert added["transports"] == ["hybrid", "internal"]
    assert set(added) == {"id", "name", "created_at", "last_used", "backed_up", "transports"}
    assert (await client.get("/auth/passkeys")).json() == [added]
    options = (await client.post("/auth/passkeys/registration/options", json={})).json()
    credential_id = authenticator.credentials[0].id
    assert [c["id"] for c in options["excludeCredentials"]] == [b64url(credential_id)]
    # The same user handle for every passkey of the user's.
    assert options["user"]["id"] == authenticator.credentials[0].user_handle


async def test_signing_in_with_a_passkey_starts_a_session_and_records_its_use(
    client: httpx.AsyncClient,
    authenticator: Authenticator,
    edith_with_a_passkey: dict[str, Any],
    db_session: AsyncSession,
    app: FastAPI,
) -> None:
    options = await request_options(client)
    assert options["allowCredentials"] == []
    assert options["rpId"] == "app.example"
    assert options["userVerification"] == "required"

    response = await present(client, authenticator.get(options))

    assert response.status_code == 200, response.text
    assert response.json()["email"] == EDITH
    assert (await client.get("/auth/me")).json()["email"] == EDITH
    listed = (await client.get("/auth/passkeys")).json()
    assert listed[0]["last_used"] is not None
    _, _, used = await counts(db_session)
    assert used[0][0] == 1
    sessions = (await client.get("/auth/sessions")).json()
    assert len(sessions) == 1
    async with services_of(app).db_sessions() as db:
        events = await events_after(db=db, after=0, limit=100)
    created = [e for e in events if e.type == "session.created"]
    assert json.loads(created[-1].data)["provider"] == "passkey"
    assert [e.type for e in events if e.type.startswith("passkey.")] == ["passkey.added"]


async def test_a_bearer_token_for_a_passkey(
    client: httpx.AsyncClient, authenticator: Authenticator, edith_with_a_passkey: dict[str, Any]
) -> None:
    options = await request_options(client)

    response = await client.post(
        "/auth/passkeys/token", json={"credential": authenticator.get(options)}
    )

    assert response.status_code == 200
    token = response.json()["access_token"]
    assert "set-cookie" not in response.headers
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["email"] == EDITH


async def test_an_authenticator_without_a_counter_signs_in_again_and_again(
    client: httpx.AsyncClient, verifier: FakeProvider
) -> None:
    authenticator = Authenticator(origin=APP_ORIGIN, counts=False)
    await sign_in(client, verifier, EDITH)
    await add_passkey(client, authenticator)

    for _ in range(2):
        options = await request_options(client)
        credential = authenticator.get(options)
        response = await present(client, credential)
        assert response.status_code == 200


@pytest.mark.usefixtures("engine")  # the tables
async def test_a_challenge_is_used_once_by_every_worker_together(
    settings: Settings, verifier: FakeProvider, authenticator: Authenticator
) -> None:
    async with two_workers(settings, provider=verifier) as (one, two):
        await sign_in(one, verifier, EDITH)
        await add_passkey(one, authenticator)
        options = await request_options(one)
        answer = {"credential": authenticator.get(options)}

        first = await two.post("/auth/passkeys/authentication", json=answer)
        again = await one.post("/auth/passkeys/authentication", json=answer)

    assert (first.status_code, again.status_code) == (200, 401)


@pytest.mark.usefixtures("engine")  # the tables
async def test_a_ceremony_begun_before_the_key_was_rotated_completes(
    settings: Settings, verifier: FakeProvider, authenticator: Authenticator
) -> None:
    rotated = settings.model_copy(
        update={"secret_key": SecretStr("n" * 48), "secret_key_fallbacks": (settings.secret_key,)}
    )
    async with serving(settings, provider=verifier) as before:
        await sign_in(before, verifier, EDITH)
        await add_passkey(before, authenticator)
        options = await request_options(before)
    async with serving(rotated, provider=verifier) as after:
        answer = {"credential": authenticator.get(options)}

        response = await after.post("/auth/passkeys/authentication", json=answer)

    assert response.status_code == 200


async def test_a_counter_that_falls_to_zero_signs_in_and_the_kept_count_still_judges(
    client: httpx.AsyncClient,
    authenticator: Authenticator,
    edith_with_a_passkey: dict[str, Any],
    db_session: AsyncSession,
) -> None:
    # Refused only when both counts are non-zero (a synced passkey may stop counting).
    assert (await present(client, authenticator.get(await request_options(client)))).is_success
    zero = await present(client, authenticator.get(await request_options(client), sign_count=0))
    kept = (await counts(db_session))[2][0][0]
    stale = await present(client, authenticator.get(await request_options(client), sign_count=1))

    assert (zero.status_code, kept, stale.status_code) == (200, 1, 401)
