"""Data functions for users; keyword-only so call sites read like sentences."""

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from api.store.tables import User, UserPublic

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite


USERS = SQLModel.metadata.tables[User.__tablename__]


def _upsert_insert(dialect: str) -> "sqlite.Insert | postgresql.Insert":
    # Imported on use: a SQLite deployment need not load the PostgreSQL dialect (~2 MB).
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(USERS)
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(USERS)
    raise NotImplementedError(f"no upsert for the {dialect} dialect")


async def upsert_users(
    *, session: AsyncSession, logins: Mapping[str, datetime]
) -> dict[str, UserPublic]:
    """Create each user or stamp their login, in one statement that concurrent logins can share.

    `logins` maps each email to its login time. The caller commits, so a login's other writes
    land in the same transaction.
    """
    insert = _upsert_insert(session.get_bind().dialect.name)
    # Core rows rather than ORM objects (a fifth cheaper), and rows as executemany parameters,
    # not .values(rows): one compiled statement serves every batch size, where .values() would
    # compile and cache one per size.
    statement = insert.on_conflict_do_update(
        index_elements=["email"], set_={"last_login": insert.excluded.last_login}
    ).returning(USERS.c.email, USERS.c.created_at, USERS.c.last_login)
    rows = [{"email": email, "created_at": now, "last_login": now} for email, now in logins.items()]
    return {
        row.email: UserPublic(email=row.email, created_at=row.created_at, last_login=row.last_login)
        for row in await session.execute(statement, rows)
    }


async def get_user(*, session: AsyncSession, email: str) -> User | None:
    """The user with this email, if there is one."""
    return await session.get(User, email)


async def delete_user(*, session: AsyncSession, email: str) -> bool:
    """Delete the user and, by cascade, every session of theirs; False if there was none."""
    user = await session.get(User, email)
    if user is None:
        return False
    await session.delete(user)
    await session.commit()
    return True
