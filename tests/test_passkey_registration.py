"""Adding a passkey: who may, and the answers that add nothing."""

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.testing import FakeProvider
from tests.admin_calls import assert_problem
from tests.authenticator import Authenticator, Credential
from tests.passkey_calls import EDITH, OTTO, passkey_count, sign_in


async def test_only_a_verified_email_may_add_a_passkey(
    client: httpx.AsyncClient, verifier: FakeProvider
) -> None:
    verifier.accept("unverified", email=EDITH, verified=False, subject="edith-at-idp")
    assert (await client.post("/auth/login", json={"assertion": "unverified"})).status_code == 200

    response = await client.post("/auth/passkeys/registration/options", json={})

    assert_problem(response, 403, "email-unverified")


async def test_a_registration_that_does_not_check_out_adds_nothing(
    client: httpx.AsyncClient,
    verifier: FakeProvider,
    authenticator: Authenticator,
    db_session: AsyncSession,
) -> None:
    await sign_in(client, verifier, EDITH)
    options = (await client.post("/auth/passkeys/registration/options", json={})).json()
    wrong_origin = authenticator.create(options, origin="https://evil.example")
    refused = await client.post("/auth/passkeys/registration", json={"credential": wrong_origin})
    replayed = await client.post(
        "/auth/passkeys/registration", json={"credential": authenticator.create(options)}
    )

    assert_problem(refused, 400, "passkey-not-added")
    assert_problem(replayed, 400, "passkey-not-added")
    assert await passkey_count(db_session) == 0


async def test_a_challenge_issued_to_another_user_adds_nothing(
    client: httpx.AsyncClient,
    verifier: FakeProvider,
    authenticator: Authenticator,
    db_session: AsyncSession,
) -> None:
    await sign_in(client, verifier, OTTO)
    ottos = (await client.post("/auth/passkeys/registration/options", json={})).json()
    await sign_in(client, verifier, EDITH)

    response = await client.post(
        "/auth/passkeys/registration", json={"credential": authenticator.create(ottos)}
    )

    assert_problem(response, 400, "passkey-not-added")
    assert await passkey_count(db_session) == 0


async def test_a_credential_registered_already_is_a_409(
    client: httpx.AsyncClient, verifier: FakeProvider, authenticator: Authenticator
) -> None:
    await sign_in(client, verifier, EDITH)
    options = (await client.post("/auth/passkeys/registration/options", json={})).json()
    first = authenticator.create(options)
    assert (
        await client.post("/auth/passkeys/registration", json={"credential": first})
    ).status_code == 201
    await sign_in(client, verifier, OTTO)
    options = (await client.post("/auth/passkeys/registration/options", json={})).json()
    again = authenticator.create(options, reuse=authenticator.credentials[0])

    response = await client.post("/auth/passkeys/registration", json={"credential": again})

    assert_problem(response, 409, "passkey-exists")
    assert (await client.get("/auth/passkeys")).json() == []


async def test_a_credential_id_longer_than_webauthn_allows_adds_nothing(
    client: httpx.AsyncClient,
    verifier: FakeProvider,
    authenticator: Authenticator,
    db_session: AsyncSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await sign_in(client, verifier, EDITH)
    options = (await client.post("/auth/passkeys/registration/options", json={})).json()
    long = Credential(
        id=b"i" * 1024, key=authenticator.new_key(), rp_id="app.example", user_handle=""
    )

    response = await client.post(
        "/auth/passkeys/registration",
        json={"credential": authenticator.create(options, reuse=long)},
    )

    assert_problem(response, 400, "passkey-not-added")
    assert "passkey not added: credential id longer than WebAuthn allows" in caplog.text
    assert await passkey_count(db_session) == 0
