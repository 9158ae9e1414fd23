"""A database Signet cannot use, as `signet` commands say it: one line naming the problem, never
the password, and exit 3 (docs/operations.md), whether out of reach or refusing the role or the
database name."""

import asyncio
import secrets
from typing import Any

import asyncpg
import pytest
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

from api.cli import EXIT_UNUSABLE, main
from api.config import get_settings
from api.store.db import unusable_database
from tests.databases import require_postgres

PASSWORD = "not-a-real-password-4711"
# How SQLAlchemy's asyncpg dialect wraps asyncpg's exceptions (its DBAPIError's `orig`).
_AdaptedError: type[Exception] = AsyncAdapt_asyncpg_dbapi.Error


@pytest.fixture
def server_url() -> str:
    """The test PostgreSQL server's URL (skipped, saying why, when none answers)."""
    return asyncio.run(require_postgres())


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings production starts with, but for the database; `signet serve` never serves."""
    monkeypatch.setenv("SIGNET_ENV", "production")
    monkeypatch.setenv("SIGNET_SECRET_KEY", secrets.token_urlsafe(32))
    monkeypatch.setenv("SIGNET_VERIFIER_URL", "https://verifier.example/verify")
    monkeypatch.setenv("SIGNET_PUBLIC_URL", "https://auth.example")
    monkeypatch.setattr("uvicorn.run", lambda *_, **__: pytest.fail("must not serve"))


COMMANDS = [["migrate"], ["serve"], ["users", "list"]]


@pytest.mark.postgresql
@pytest.mark.usefixtures("production")
@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
@pytest.mark.parametrize(
    ("change", "says"),
    [
        (
            {"username": "signet_no_such_role", "password": PASSWORD},
            'InvalidAuthorizationSpecificationError: role "signet_no_such_role" does not exist',
        ),
        (
            {"database": "signet_no_such_database"},
            'InvalidCatalogNameError: database "signet_no_such_database" does not exist',
        ),
    ],
    ids=["unknown role", "unknown database"],
)
def test_a_database_refusing_the_role_or_name_is_one_line_and_exit_3(
    server_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    change: dict[str, Any],
    says: str,
) -> None:
    url = make_url(server_url).set(**change)
    monkeypatch.setenv("SIGNET_DATABASE_URL", url.render_as_string(hide_password=False))
    get_settings.cache_clear()

    assert main(argv) == EXIT_UNUSABLE

    (line,) = capsys.readouterr().err.strip().splitlines()
    where = url.render_as_string(hide_password=True)
    assert line == f"signet: the database at {where} is unusable: {says}"
    assert PASSWORD not in line
    get_settings.cache_clear()


def test_a_refused_password_is_named_in_one_line() -> None:
    # asyncpg's own, as raised at connect, and as SQLAlchemy's adapter wraps it.
    refused = asyncpg.exceptions.InvalidPasswordError('password authentication failed for "x"')
    try:
        raise _AdaptedError("wrapped") from refused
    except _AdaptedError as adapted:
        wrapped = DBAPIError(None, None, adapted)

    said = 'InvalidPasswordError: password authentication failed for "x"'
    assert unusable_database(refused) == said
    assert unusable_database(wrapped) == said


def test_other_failures_are_left_to_show_themselves() -> None:
    assert unusable_database(ValueError("a bug")) is None
    assert unusable_database(IntegrityError(None, None, Exception("duplicate key"))) is None


def test_a_connection_out_of_reach_is_named_in_one_line() -> None:
    refused = ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 1)")

    assert unusable_database(refused) == (
        "ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 1)"
    )
