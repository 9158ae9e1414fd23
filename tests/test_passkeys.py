"""Passkeys over the API, with a software authenticator: adding one, signing in with one, and
each check that refuses a ceremony's answer with nothing written."""

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.services import services_of
from api.store.events import events_after
from api.store.passkey_tables import PasskeyRow
from api.store.tables import SessionRow
from api.testing import FakeClock, FakeProvider
from tests.apps import APP_ORIGIN
from tests.authenticator import UP, Authenticator, b64url, from_b64url

EDITH = "edith@example.com"
OTTO = "otto@example.com"


async def sign_in(client: httpx.AsyncClient, verifier: FakeProvider, email: str) -> None:
    verifier.accept(f"assertion-{email}", email=email)
    response = await client.post("/auth/login", json={"assertion": f"assertion-{email}"})
    assert response.status_code == 200


async def add_passkey(
    client: httpx.AsyncClient, authenticator: Authenticator, name: str | None = None
) -> dict[str, Any]:
    options = (await client.post("/auth/passkeys/registration/options", json={})).json()
    body: dict[str, Any] = {"credential": authenticator.create(options)}
    if name is not None:
        body["name"] = name
    response = await client.post("/auth/passkeys/registration", json=body)
    assert response.status_code == 201, response.text
    added: dict[str, Any] = response.json()
    return added


async def request_options(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.post("/auth/passkeys/authentication/options", json={})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    options: dict[str, Any] = response.json()
    return options


async def counts(db_session: AsyncSession) -> tuple[int, int, list[tuple[int, Any]]]:
    """How many passkeys and sessions there are, and each passkey's counter and last use."""
    passkeys = await db_session.scalar(select(func.count()).select_from(PasskeyRow))
    sessions = await db_session.scalar(select(func.count()).select_from(SessionRow))
    rows = await db_session.execute(select(col(PasskeyRow.sign_count), col(PasskeyRow.last_used)))
    db_session.expire_all()
    return passkeys or 0, sessions or 0, sorted((count, used) for count, used in rows)


@pytest.fixture
def authenticator() -> Authenticator:
    return Authenticator(origin=APP_ORIGIN)


@pytest.fixture
async def edith_with_a_passkey(
    client: httpx.AsyncClient, verifier: FakeProvider, authenticator: Authenticator
) -> dict[str, Any]:
    """Edith, signed in, with one passkey in `authenticator`; then signed out."""
    await sign_in(client, verifier, EDITH)
    added = await add_passkey(client, authenticator, name="Laptop")
    await client.post("/auth/logout")
    client.cookies.clear()
    return added


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

    response = await client.post(
        "/auth/passkeys/authentication", json={"credential": authenticator.get(options)}
    )

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
        response = await client.post(
            "/auth/passkeys/authentication", json={"credential": credential}
        )
        assert response.status_code == 200


Tamper = dict[str, Any]
# Each case, and the words the log gives for it (so that no earlier check refuses it instead).
REFUSALS: list[tuple[str, Tamper, str]] = [
    ("wrong origin", {"origin": "https://evil.example"}, "origin"),
    ("wrong RP ID hash", {"rp_id": "evil.example"}, "RP ID hash"),
    ("no user presence", {"flags": 0}, "not present"),
    ("no user verification", {"flags": UP}, "User verification is required"),
    ("bad signature", {"bad_signature": True}, "signature"),
    ("counter going backwards", {"sign_count": 0}, "counter did not go up"),
    ("create instead of get", {"type": "webauthn.create"}, "client data type"),
]


@pytest.mark.parametrize(("_case", "tamper", "logged"), REFUSALS, ids=[r[0] for r in REFUSALS])
async def test_each_check_refuses_with_401_and_writes_nothing(
    client: httpx.AsyncClient,
    authenticator: Authenticator,
    edith_with_a_passkey: dict[str, Any],
    db_session: AsyncSession,
    caplog: pytest.LogCaptureFixture,
    _case: str,
    tamper: Tamper,
    logged: str,
) -> None:
    # A first sign-in moves the counter to 1, so that 0 goes backwards.
    options = await request_options(client)
    first = await client.post(
        "/auth/passkeys/authentication", json={"credential": authenticator.get(options)}
    )
    assert first.status_code == 200
    client.cookies.clear()
    before = await counts(db_session)
    options = await request_options(client)

    refused = await client.post(
        "/auth/passkeys/authentication", json={"credential": authenticator.get(options, **tamper)}
    )

    assert refused.status_code == 401, refused.text
    assert logged in caplog.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:signet:problem:passkey-rejected"
    assert await counts(db_session) == before
    assert "set-cookie" not in refused.headers
    # The challenge is spent: a right answer to it is refused too.
    again = await client.post(
        "/auth/passkeys/authentication", json={"credential": authenticator.get(options)}
    )
    assert again.status_code == 401


async def test_a_replayed_challenge_is_refused(
    client: httpx.AsyncClient,
    authenticator: Authenticator,
    edith_with_a_passkey: dict[str, Any],
    db_session: AsyncSession,
) -> None:
    options = await request_options(client)
    assert (
        await client.post(
            "/auth/passkeys/authentication", json={"credential": authenticator.get(options)}
        )
    ).status_code == 200
    client.cookies.clear()
    before = await counts(db_session)

    replayed = await client.post(
        "/auth/passkeys/authentication", json={"credential": authenticator.get(options)}
    )

    assert replayed.status_code == 401
    assert await counts(db_session) == before


async def test_a_challenge_from_another_ceremony_is_refused(
    client: httpx.AsyncClient,
    verifier: FakeProvider,
    authenticator: Authenticator,
    db_session: AsyncSession,
) -> None:
    await sign_in(client, verifier, EDITH)
    await add_passkey(client, authenticator)
    creation = (await client.post("/auth/passkeys/registration/options", json={})).json()
    client.cookies.clear()
    before = await counts(db_session)
    options = await request_options(client)

    refused = await client.post(
        "/auth/passkeys/authentication",
        json={"credential": authenticator.get(options, challenge=creation["challenge"])},
    )

    assert refused.status_code == 401
    assert await counts(db_session) == before


async def test_a_challenge_signet_did_not_issue_or_that_expired_is_refused(
    client: httpx.AsyncClient,
    authenticator: Authenticator,
    edith_with_a_passkey: dict[str, Any],
    db_session: AsyncSession,
    clock: FakeClock,
) -> None:
    before = await counts(db_session)
    options = await request_options(client)
    forged = await client.post(
        "/auth/passkeys/authentication",
        json={"credential": authenticator.get(options, challenge=b64url(b"x" * 32))},
    )
    clock.advance(5 * 60 + 1)
    expired = await client.post(
        "/auth/passkeys/authentication", json={"credential": authenticator.get(options)}
    )

    assert (forged.status_code, expired.status_code) == (401, 401)
    assert await counts(db_session) == before


async def test_a_credential_with_another_users_handle_is_refused(
    client: httpx.AsyncClient,
    verifier: FakeProvider,
    authenticator: Authenticator,
    db_session: AsyncSession,
) -> None:
    await sign_in(client, verifier, EDITH)
    await add_passkey(client, authenticator)
    client.cookies.clear()
    otto = Authenticator(origin=APP_ORIGIN)
    await sign_in(client, verifier, OTTO)
    await add_passkey(client, otto)
    client.cookies.clear()
    before = await counts(db_session)
    options = await request_options(client)

    refused = await client.post(
        "/auth/passkeys/authentication",
        json={
            "credential": authenticator.get(options, user_handle=otto.credentials[0].user_handle)
        },
    )

    assert refused.status_code == 401
    assert await counts(db_session) == before


async def test_an_unknown_credential_is_refused(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    stranger = Authenticator(origin=APP_ORIGIN)
    stranger.create(
        {"rp": {"id": "app.example"}, "user": {"id": b64url(b"u" * 32)}, "challenge": ""}
    )
    options = await request_options(client)

    refused = await client.post(
        "/auth/passkeys/authentication", json={"credential": stranger.get(options)}
    )

    assert refused.status_code == 401
    assert await counts(db_session) == (0, 0, [])


@pytest.mark.parametrize(
    "credential",
    [{}, {"response": []}, {"response": {"clientDataJSON": "!!"}}, {"id": 3, "response": "x"}],
)
async def test_a_malformed_answer_is_a_401_problem(
    client: httpx.AsyncClient, credential: dict[str, Any]
) -> None:
    response = await client.post("/auth/passkeys/authentication", json={"credential": credential})

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
