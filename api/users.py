"""Data functions for users; keyword-only so call sites read like sentences."""

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from api.models import User

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite


def _upsert_insert(dialect: str) -> "sqlite.Insert | postgresql.Insert":
    # Imported on use: a SQLite deployment need not load the PostgreSQL dialect (~2 MB).
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(User)
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(User)
    raise NotImplementedError(f"no upsert for the {dialect} dialect")


async def upsert_users(*, session: AsyncSession, logins: Mapping[str, datetime]) -> dict[str, User]:
    """Create each user or stamp their login, in one statement that concurrent logins can share.

    `logins` maps each email to its login time. The caller commits, so a login's other writes
    land in the same transaction.
    """
    insert = _upsert_insert(session.get_bind().dialect.name)
    # Rows go as executemany parameters, not .values(rows): one compiled statement serves every
    # batch size, where .values() would compile and cache one per size.
    statement = (
        insert.on_conflict_do_update(
            index_elements=["email"], set_={"last_login": insert.excluded.last_login}
        )
        .returning(User)
        .execution_options(populate_existing=True)
    )
    rows = [{"email": email, "created_at": now, "last_login": now} for email, now in logins.items()]
    return {user.email: user for user in await session.scalars(statement, rows)}


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
