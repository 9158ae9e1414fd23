"""Data functions for users; keyword-only so call sites read like sentences."""

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import User

_UPSERT_DIALECTS: dict[str, Callable[[type[User]], sqlite.Insert | postgresql.Insert]] = {
    "sqlite": sqlite.insert,
    "postgresql": postgresql.insert,
}


async def upsert_user(*, session: AsyncSession, email: str, now: datetime) -> User:
    """Create the user or stamp their login, in one statement that concurrent logins can share.

    The caller commits, so the login's other writes land in the same transaction.
    """
    dialect = session.get_bind().dialect.name
    insert = _UPSERT_DIALECTS.get(dialect)
    if insert is None:
        raise NotImplementedError(f"no upsert for the {dialect} dialect")
    statement = (
        insert(User)
        .values(email=email, created_at=now, last_login=now)
        .on_conflict_do_update(index_elements=["email"], set_={"last_login": now})
        .returning(User)
        .execution_options(populate_existing=True)
    )
    user: User = (await session.scalars(statement)).one()
    return user


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
