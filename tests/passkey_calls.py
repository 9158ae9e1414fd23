"""What the passkey tests share: people, signing in, adding a passkey, asking for options, and
reading what the tables hold."""

from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.store.passkey_tables import PasskeyRow
from api.store.tables import SessionRow
from api.testing import FakeProvider
from tests.authenticator import Authenticator, b64url

AT = datetime(2026, 1, 1, 12, tzinfo=UTC)
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


async def store_passkey(db: AsyncSession, authenticator: Authenticator, email: str) -> None:
    """A passkey of `email`'s in `authenticator`, written straight to the database."""
    handle = b64url(b"h" * 32)
    authenticator.create({"rp": {"id": "app.example"}, "user": {"id": handle}, "challenge": ""})
    credential = authenticator.credentials[-1]
    db.add(
        PasskeyRow(
            id=f"pk-{email}",
            credential_id=b64url(credential.id),
            email=email,
            user_handle=handle,
            public_key=b64url(credential.cose_public_key()),
            name="Stored",
            created_at=AT,
        )
    )
    await db.commit()


async def passkey_count(db: AsyncSession) -> int:
    return await db.scalar(select(func.count()).select_from(PasskeyRow)) or 0


async def sign_in_with(client: httpx.AsyncClient, authenticator: Authenticator) -> httpx.Response:
    options = await request_options(client)
    credential = authenticator.get(options)
    return await client.post("/auth/passkeys/authentication", json={"credential": credential})
