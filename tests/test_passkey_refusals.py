"""Each check that refuses a passkey's answer: a 401 problem, the challenge spent, and the passkeys
and sessions tables as they were."""

import asyncio
import json
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.testing import FakeClock, FakeProvider
from tests.apps import APP_ORIGIN
from tests.authenticator import UP, Authenticator, b64url
from tests.passkey_calls import (
    EDITH,
    OTTO,
    add_passkey,
    counts,
    present,
    request_options,
    sign_in,
)

Tamper = dict[str, Any]
# Each case, and the words the log gives for it (so that no earlier check refuses it instead).
REFUSALS: list[tuple[str, Tamper, str]] = [
    ("wrong origin", {"origin": "https://evil.example"}, "origin"),
    ("wrong RP ID hash", {"rp_id": "evil.example"}, "RP ID hash"),
    ("no user presence", {"flags": 0}, "not present"),
    ("no user verification", {"flags": UP}, "User verification is required"),
    ("bad signature", {"bad_signature": True}, "signature"),
    ("counter not going up", {"sign_count": 1}, "counter 1 after 1: a cloned authenticator"),
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
    first = await present(client, authenticator.get(options))
    assert first.status_code == 200
    client.cookies.clear()
    before = await counts(db_session)
    options = await request_options(client)

    refused = await present(client, authenticator.get(options, **tamper))

    assert refused.status_code == 401, refused.text
    assert logged in caplog.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:signet:problem:passkey-rejected"
    assert await counts(db_session) == before
    assert "set-cookie" not in refused.headers
    # The challenge is spent: a right answer to it is refused too.
    again = await present(client, authenticator.get(options))
    assert again.status_code == 401


async def test_a_replayed_challenge_is_refused(
    client: httpx.AsyncClient,
    authenticator: Authenticator,
    edith_with_a_passkey: dict[str, Any],
    db_session: AsyncSession,
) -> None:
    options = await request_options(client)
    assert (await present(client, authenticator.get(options))).status_code == 200
    client.cookies.clear()
    before = await counts(db_session)

    replayed = await present(client, authenticator.get(options))

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

    refused = await present(client, authenticator.get(options, challenge=creation["challenge"]))

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
    forged = await present(client, authenticator.get(options, challenge=b64url(b"x" * 32)))
    clock.advance(5 * 60 + 1)
    expired = await present(client, authenticator.get(options))

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

    refused = await present(client, stranger.get(options))

    assert refused.status_code == 401
    assert await counts(db_session) == (0, 0, [])


NESTED = b64url(b"[" * 5000)


@pytest.mark.parametrize(
    "credential",
    [
        {},
        {"response": []},
        {"response": {"clientDataJSON": "!!"}},
        {"id": 3, "response": "x"},
        {"response": {"clientDataJSON": NESTED}},
    ],
)
async def test_a_malformed_answer_is_a_401_problem(
    client: httpx.AsyncClient, credential: dict[str, Any]
) -> None:
    response = await present(client, credential)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("field", ["rawId", "userHandle"])
async def test_a_credential_id_or_user_handle_that_is_not_base64url_is_refused(
    client: httpx.AsyncClient,
    authenticator: Authenticator,
    edith_with_a_passkey: dict[str, Any],
    field: str,
) -> None:
    options = await request_options(client)
    answer = authenticator.get(options)
    (answer if field == "rawId" else answer["response"])[field] = "\ud800"

    # Sent as JSON escapes: a lone surrogate has no UTF-8 form.
    body = json.dumps({"credential": answer})
    refused = await client.post(
        "/auth/passkeys/authentication", content=body, headers={"Content-Type": "application/json"}
    )

    assert refused.status_code == 401


async def test_two_answers_with_one_counter_value_at_once_are_one_sign_in_and_one_clone(
    client: httpx.AsyncClient,
    authenticator: Authenticator,
    edith_with_a_passkey: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    db_session: AsyncSession,
) -> None:
    first, second = await request_options(client), await request_options(client)
    answers = [authenticator.get(options, sign_count=7) for options in (first, second)]

    results = await asyncio.gather(
        *(
            client.post("/auth/passkeys/authentication", json={"credential": answer})
            for answer in answers
        )
    )

    assert sorted(response.status_code for response in results) == [200, 401]
    assert "a cloned authenticator, or one answer used twice?" in caplog.text
    _, sessions, used = await counts(db_session)
    assert (sessions, used[0][0]) == (1, 7)
