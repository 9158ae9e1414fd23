"""One address, one spelling: the local part NFC and lower-cased, the domain in Unicode; and a
migration that brings stored emails to it, merging the users that turn out to be one."""

import asyncio
import unicodedata
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy import text

from api.auth.emails import InvalidEmail, normalise_email
from api.store.db import create_engine
from api.testing import FakeProvider
from tests.databases import empty_database
from tests.test_migrations import alembic_config

NFC = unicodedata.normalize("NFC", "Édith@Exämple.com")
NFD = unicodedata.normalize("NFD", "Édith@Exämple.com")


@pytest.mark.parametrize(
    "spelling",
    [NFC, NFD, "édith@xn--exmple-cua.com", " ÉDITH@EXÄMPLE.COM ", "édith@EXÄMPLE.com"],
)
def test_every_spelling_of_an_address_is_one(spelling: str) -> None:
    assert normalise_email(spelling) == "édith@exämple.com"


def test_plain_ascii_is_lower_cased() -> None:
    assert normalise_email("Edith.Piaf+news@Example.COM") == "edith.piaf+news@example.com"


@pytest.mark.parametrize("value", ["", "edith", "edith@", "@example.com", "a b@example.com"])
def test_what_is_not_an_address_is_refused(value: str) -> None:
    with pytest.raises(InvalidEmail):
        normalise_email(value)


async def test_signing_in_with_two_spellings_is_one_user(
    client: httpx.AsyncClient, verifier: FakeProvider
) -> None:
    verifier.accept("nfd", email=NFD)
    verifier.accept("punycode", email="édith@xn--exmple-cua.com")

    first = await client.post("/auth/login", json={"assertion": "nfd"})
    client.cookies.clear()
    second = await client.post("/auth/login", json={"assertion": "punycode"})

    assert first.json()["email"] == second.json()["email"] == "édith@exämple.com"


T1 = datetime(2026, 1, 1, tzinfo=UTC)
T2 = datetime(2026, 2, 1, tzinfo=UTC)
T3 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with empty_database(request.param, tmp_path) as url:
        yield url


def run(url: str, *statements: tuple[str, dict[str, object]]) -> list[tuple[object, ...]]:
    async def go() -> list[tuple[object, ...]]:
        engine = create_engine(url)
        rows: list[tuple[object, ...]] = []
        try:
            async with engine.begin() as connection:
                for statement, parameters in statements:
                    result = await connection.execute(text(statement), parameters)
                    if result.returns_rows:
                        rows = [tuple(row) for row in result.all()]
        finally:
            await engine.dispose()
        return rows

    return asyncio.run(go())


def test_the_migration_merges_the_spellings_of_one_address(database: str) -> None:
    config = alembic_config(database)
    command.upgrade(config, "0007")
    user = (
        "INSERT INTO users (email, created_at, last_login, email_verified) VALUES (:e, :c, :l, :v)"
    )
    session = (
        "INSERT INTO sessions (id, email, created_at, expires_at, kind)"
        " VALUES (:i, :e, :c, :c, 'cookie')"
    )
    identity = (
        "INSERT INTO identities (id, provider, subject, email, created_at, last_used)"
        " VALUES (:i, :p, :s, :e, :c, :c)"
    )
    run(
        database,
        (user, {"e": "édith@xn--exmple-cua.com", "c": T2, "l": T2, "v": False}),
        (user, {"e": NFD.lower(), "c": T1, "l": T3, "v": True}),
        (user, {"e": "francis@example.com", "c": T2, "l": T2, "v": True}),
        (session, {"i": "s1", "e": "édith@xn--exmple-cua.com", "c": T2}),
        (session, {"i": "s2", "e": NFD.lower(), "c": T3}),
        (identity, {"i": "i1", "p": "google", "s": "g-1", "e": NFD.lower(), "c": T1}),
    )

    command.upgrade(config, "head")

    assert run(
        database,
        ("SELECT email, email_verified FROM users ORDER BY email", {}),
    ) == [("francis@example.com", True), ("édith@exämple.com", True)]
    assert run(database, ("SELECT id, email FROM sessions ORDER BY id", {})) == [
        ("s1", "édith@exämple.com"),
        ("s2", "édith@exämple.com"),
    ]
    assert run(database, ("SELECT email FROM identities", {})) == [("édith@exämple.com",)]
    ((created, last),) = run(
        database, ("SELECT created_at, last_login FROM users WHERE email LIKE 'é%'", {})
    )
    assert str(created).startswith("2026-01-01")  # the earliest
    assert str(last).startswith("2026-03-01")  # the latest
