"""The database engine and its factory of database sessions (SQLAlchemy `AsyncSession`s)."""

from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError, EmulatedDBAPIException, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS = 5_000
# The newest migration (alembic/versions): the schema this code reads and writes.
SCHEMA_REVISION = "0013"


def _tune_sqlite(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # WAL lets readers run beside the single writer; the busy timeout makes concurrent
    # writers queue instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(url: str, *, connect_timeout: float = 5.0, **options: Any) -> AsyncEngine:
    """An async engine for `url`, tuned for the dialect it names.

    Every wait is bounded, so a database that is down answers a request with an error in seconds
    instead of hanging it: connecting (`connect_timeout`), each statement (twice that), and
    waiting for a pooled connection (`pool_timeout`, passed in `options`).
    """
    if make_url(url).get_backend_name() == "sqlite" and make_url(url).database in (
        None,
        "",
        ":memory:",
    ):
        # An in-memory SQLite database lives in one connection (a StaticPool): no pool to size.
        for option in ("pool_size", "max_overflow", "pool_timeout"):
            options.pop(option, None)
    if url.startswith("postgresql"):
        connect_args = options.setdefault("connect_args", {})
        connect_args.setdefault("timeout", connect_timeout)
        connect_args.setdefault("command_timeout", 2 * connect_timeout)
    # hide_parameters: a failed statement's message never carries its values (emails).
    engine = create_async_engine(url, pool_pre_ping=True, hide_parameters=True, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
    return engine


async def schema_revision(db: AsyncSession) -> str | None:
    """The migration the database was brought to, or None if it never was."""
    migrated = await db.run_sync(
        lambda session: inspect(session.connection()).has_table("alembic_version")
    )
    if not migrated:
        return None
    revision: str | None = await db.scalar(text("SELECT version_num FROM alembic_version"))
    return revision


def create_db_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A factory of database sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def is_missing_table(error: BaseException) -> bool:
    """Whether a statement failed for want of a table: a database never migrated (SQLite says
    so in words, PostgreSQL with SQLSTATE 42P01)."""
    cause = getattr(error, "orig", None)
    return "no such table" in str(cause) or getattr(cause, "sqlstate", None) == "42P01"


# SQLSTATEs that say the database cannot be used as configured, from the first connection:
# connection exceptions (class 08), a role unknown or refused (class 28: InvalidAuthorization-
# SpecificationError, InvalidPasswordError), no such database (3D000: InvalidCatalogNameError),
# too many connections (53300), and a server starting or shutting down (57P03).
_UNUSABLE_SQLSTATES = ("08", "28", "3D000", "53300", "57P03")


def unusable_database(error: BaseException) -> str | None:
    """One line saying why the database cannot be used at all (out of reach, or refusing this
    role or database name), without the URL or its password; None when `error` is not that."""
    cause: BaseException = error
    if isinstance(error, DBAPIError):
        cause = error.orig if isinstance(error.orig, BaseException) else error
        # SQLAlchemy's adapter for asyncpg wraps asyncpg's own exception, which names it.
        if isinstance(cause, EmulatedDBAPIException) and cause.__cause__:
            cause = cause.__cause__
        unusable = isinstance(error, OperationalError | InterfaceError)
    else:
        unusable = isinstance(error, OSError)
    sqlstate = getattr(cause, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate.startswith(_UNUSABLE_SQLSTATES):
        unusable = True
    return _first_line(cause) if unusable else None


def _first_line(error: BaseException) -> str:
    message = str(error).strip()
    first = message.splitlines()[0] if message else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__
