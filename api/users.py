"""Data functions for users; keyword-only so call sites read like sentences."""

from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from api.models import User

_UPSERT_DIALECTS: dict[str, Callable[[type[User]], sqlite.Insert | postgresql.Insert]] = {
    "sqlite": sqlite.insert,
    "postgresql": postgresql.insert,
}


async def upsert_users(*, session: AsyncSession, logins: Mapping[str, datetime]) -> dict[str, User]:
    """Create each user or stamp their login, in one statement that concurrent logins can share.

    `logins` maps each email to its login time. The caller commits, so a login's other writes
    land in the same transaction.
    """
    dialect = session.get_bind().dialect.name
    insert = _UPSERT_DIALECTS.get(dialect)
    if insert is None:
        raise NotImplementedError(f"no upsert for the {dialect} dialect")
    rows = [{"email": email, "created_at": now, "last_login": now} for email, now in logins.items()]
    values = insert(User).values(rows)
    statement = (
        values.on_conflict_do_update(
            index_elements=["email"], set_={"last_login": values.excluded.last_login}
        )
        .returning(User)
        .execution_options(populate_existing=True)
    )
    return {user.email: user for user in await session.scalars(statement)}


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
