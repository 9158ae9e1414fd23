"""Throwaway databases: a SQLite file or a new PostgreSQL database per test."""

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import SQLModel

import api.store.operator_tables
import api.store.passkey_tables  # noqa: F401  (registers the passkeys table)
from api.store.db import SCHEMA_REVISION, create_engine

# Set to run the whole suite on PostgreSQL; unset, the suite runs on SQLite.
SUITE_DATABASE_URL = os.environ.get("SIGNET_TEST_DATABASE_URL")
# Where the PostgreSQL-only cases look when the suite itself runs on SQLite.
POSTGRES_URL = os.environ.get(
    "SIGNET_TEST_POSTGRES_URL",
    SUITE_DATABASE_URL
    if SUITE_DATABASE_URL and SUITE_DATABASE_URL.startswith("postgresql")
    else "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
)


def sqlite_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'signet.db'}"


async def postgres_unreachable_reason(url: str) -> str | None:
    """Why the PostgreSQL at `url` cannot be used, or None when it can."""
    engine = create_engine(url, connect_args={"timeout": 3})
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure means "skip", and the reason says which
        safe_url = make_url(url).render_as_string(hide_password=True)
        return f"PostgreSQL not reachable at {safe_url}: {type(error).__name__}: {error}"
    finally:
        await engine.dispose()
    return None


async def require_postgres() -> str:
    """The PostgreSQL URL for PostgreSQL-only cases; skips the test, saying why, without one."""
    reason = await postgres_unreachable_reason(POSTGRES_URL)
    if reason is not None:
        if SUITE_DATABASE_URL:
            pytest.fail(f"SIGNET_TEST_DATABASE_URL is set but {reason}")
        pytest.skip(reason)
    return POSTGRES_URL


async def run_on_server(server_url: str, statement: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@asynccontextmanager
async def new_postgres_database(server_url: str) -> AsyncIterator[str]:
    """The URL of a new, empty database on the server at `server_url`, dropped afterwards."""
    name = f"signet_test_{uuid.uuid4().hex}"
    await run_on_server(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await run_on_server(server_url, f'DROP DATABASE "{name}" WITH (FORCE)')


@asynccontextmanager
async def empty_database(dialect: str, directory: Path) -> AsyncIterator[str]:
    """The URL of a new, empty database of `dialect` ("sqlite" or "postgresql")."""
    if dialect == "sqlite":
        yield sqlite_url(directory)
        return
    async with new_postgres_database(await require_postgres()) as url:
        yield url


@asynccontextmanager
async def engine_with_tables(url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on `url` with tables made from the models (migrations are tested apart)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(SQLModel.metadata.create_all)
            # Stamped as migrations would: the tables match the newest one.
            await connection.execute(
                text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
            )
            await connection.execute(
                text("INSERT INTO alembic_version VALUES (:revision)"),
                {"revision": SCHEMA_REVISION},
            )
        yield engine
    finally:
        await engine.dispose()


async def count_rows(session: AsyncSession, model: type[SQLModel]) -> int:
    """How many rows the model's table holds."""
    count: int = (await session.scalars(select(func.count()).select_from(model))).one()
    return count
