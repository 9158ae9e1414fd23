"""Rate limit counts in the shared database: one statement per attempt. The caller commits."""

from functools import cache

from sqlalchemy import Executable, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from api.store.tables import RateLimitHit
from api.store.users import dialect_insert

HITS = SQLModel.metadata.tables[RateLimitHit.__tablename__]


@cache
def _upsert(dialect: str) -> Executable:
    """The counting statement, built once per dialect: building it costs more than running it."""
    insert = dialect_insert(dialect, HITS)
    return (
        insert.values(
            key=bindparam("key"), window_start=bindparam("window_start"), hits=bindparam("hits")
        )
        .on_conflict_do_update(
            index_elements=[HITS.c.key, HITS.c.window_start],
            set_={"hits": HITS.c.hits + insert.excluded.hits},
        )
        .returning(HITS.c.hits)
    )


async def count_hit(*, db: AsyncSession, key: str, window_start: int, attempts: int = 1) -> int:
    """Count `attempts` for `key` in the window that began at `window_start`; returns the
    attempts counted there so far."""
    statement = _upsert(db.get_bind().dialect.name)
    parameters = {"key": key, "window_start": window_start, "hits": attempts}
    hits: int = (await db.execute(statement, parameters)).scalar_one()
    return hits


async def count_hits(
    *, db: AsyncSession, attempts: dict[tuple[str, int], int]
) -> dict[tuple[str, int], int]:
    """Count attempts per (key, window start), one statement per key (in a stable order, so
    that two writers never wait on each other's rows); the totals so far."""
    return {
        slot: await count_hit(db=db, key=slot[0], window_start=slot[1], attempts=attempts[slot])
        for slot in sorted(attempts)
    }


async def hits_so_far(*, db: AsyncSession, key: str, window_start: int) -> int:
    """The attempts counted for `key` in the window that began at `window_start`."""
    statement = select(col(RateLimitHit.hits)).where(
        col(RateLimitHit.key) == key, col(RateLimitHit.window_start) == window_start
    )
    return int(await db.scalar(statement) or 0)


async def delete_windows_before(*, db: AsyncSession, window_start: int) -> None:
    """Forget the counts of windows that began before `window_start`."""
    await db.execute(delete(RateLimitHit).where(col(RateLimitHit.window_start) < window_start))
