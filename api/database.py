"""The shared database as servers and operator commands use it: db sessions, and sessions ended
at the one revocation point, heard at once by every running server. Opened from the database's
settings alone, so that a command touching only the database needs no other setting."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth.accounts import Accounts
from api.auth.revocations import Revocations, revocations_for
from api.auth.session_cache import SessionCache
from api.auth.sessions import Sessions
from api.config import DatabaseSettings
from api.observability.metrics import Metrics, NoMetrics
from api.store.db import create_db_sessions, create_engine
from api.store.sign_in_writer import SignInWriter


@dataclass(frozen=True, slots=True)
class Database:
    db_sessions: async_sessionmaker[AsyncSession]
    revocations: Revocations
    accounts: Accounts
    sessions: Sessions


@asynccontextmanager
async def open_database(
    settings: DatabaseSettings,
    *,
    cache: SessionCache | None = None,
    metrics: Metrics | None = None,
    invite_only: bool = False,
) -> AsyncIterator[Database]:
    """The database of `settings`, closed on exit. A server hands in its session cache (which
    revocations empty), metrics and its sign-up mode; a command needs none of them."""
    async with AsyncExitStack() as stack:
        engine = create_engine(
            settings.database_url,
            connect_timeout=settings.database_connect_timeout,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            pool_timeout=settings.database_pool_timeout,
        )
        stack.push_async_callback(engine.dispose)
        db_sessions = create_db_sessions(engine)
        cache = cache or SessionCache(ttl=0)
        revocations = revocations_for(
            settings.database_url, cache=cache, metrics=metrics or NoMetrics()
        )
        stack.push_async_callback(revocations.aclose)
        accounts = Accounts(
            db_sessions=db_sessions, revocations=revocations, invite_only=invite_only
        )
        writer = SignInWriter(db_sessions, resolve=accounts.resolve_all)
        stack.push_async_callback(writer.aclose)
        yield Database(
            db_sessions=db_sessions,
            revocations=revocations,
            accounts=accounts,
            sessions=Sessions(
                db_sessions=db_sessions, cache=cache, writer=writer, revocations=revocations
            ),
        )
