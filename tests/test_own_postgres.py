"""OwnPostgres keeps a test's data and port across stop() and start(), and while stopped it
refuses connections at once, as a PostgreSQL that went down would."""

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from tests.own_postgres import OwnPostgres, own_postgres_unavailable_reason

pytestmark = pytest.mark.scale_out


@pytest.fixture
def postgres() -> Iterator[OwnPostgres]:
    reason = own_postgres_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    with OwnPostgres() as postgres:
        yield postgres


async def run(url: str, statement: str) -> object:
    """Run one statement on a new connection (no pool to outlive a restart); its first value, if
    it returns rows."""
    engine = create_async_engine(url, poolclass=NullPool, connect_args={"timeout": 2})
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(statement))
            return result.scalar() if result.returns_rows else None
    finally:
        await engine.dispose()


async def test_data_and_port_outlive_a_stop_and_start(postgres: OwnPostgres) -> None:
    url = postgres.create_database("signet")
    await run(url, "CREATE TABLE note (body text)")
    await run(url, "INSERT INTO note VALUES ('written before the stop')")

    postgres.stop()
    postgres.start()

    # The URL from before the stop still reaches the server: same port, same data.
    assert await run(url, "SELECT inet_server_port()") == postgres.port
    assert await run(url, "SELECT body FROM note") == "written before the stop"


async def test_while_stopped_connecting_is_refused_at_once(postgres: OwnPostgres) -> None:
    postgres.stop()
    postgres.stop()

    # Refused at once: waiting out the 2-second connect timeout would raise TimeoutError.
    with pytest.raises(ConnectionRefusedError):
        await run(postgres.url, "SELECT 1")

    postgres.start()
    postgres.start()
    assert await run(postgres.url, "SELECT 1") == 1
