"""Users: created or stamped at sign-in, listed and deleted by operators. The caller commits."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from api.store.tables import SessionRow, User, UserPublic

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite


USERS = SQLModel.metadata.tables[User.__tablename__]


def dialect_insert(dialect: str, table: Table) -> "sqlite.Insert | postgresql.Insert":
    """An INSERT that can say ON CONFLICT, for the dialect in use."""
    # Imported on use: a SQLite deployment need not load the PostgreSQL dialect (~2 MB).
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table)
    raise NotImplementedError(f"no ON CONFLICT for the {dialect} dialect")


async def upsert_users(
    *, db: AsyncSession, logins: Mapping[str, datetime]
) -> dict[str, UserPublic]:
    """Create each user or stamp their login, in one statement that concurrent logins can share.

    `logins` maps each email to its login time.
    """
    insert = dialect_insert(db.get_bind().dialect.name, USERS)
    # Core rows rather than ORM objects (a fifth cheaper), and rows as executemany parameters,
    # not .values(rows): one compiled statement serves every batch size, where .values() would
    # compile and cache one per size.
    statement = insert.on_conflict_do_update(
        index_elements=["email"], set_={"last_login": insert.excluded.last_login}
    ).returning(USERS.c.email, USERS.c.created_at, USERS.c.last_login, USERS.c.email_verified)
    rows = [{"email": email, "created_at": now, "last_login": now} for email, now in logins.items()]
    return {
        row.email: UserPublic(
            email=row.email,
            created_at=row.created_at,
            last_login=row.last_login,
            email_verified=row.email_verified,
        )
        for row in await db.execute(statement, rows)
    }


async def get_user(*, db: AsyncSession, email: str) -> User | None:
    """The user with this email, if there is one."""
    return await db.get(User, email)


async def get_users(*, db: AsyncSession, emails: set[str]) -> dict[str, User]:
    """The users with these emails, by email, in one SELECT."""
    if not emails:
        return {}
    statement = select(User).where(col(User.email).in_(emails))
    return {user.email: user for user in await db.scalars(statement)}


async def delete_user(*, db: AsyncSession, email: str) -> bool:
    """Delete the user and, by cascade, every session row of theirs; False if there was none."""
    user = await db.get(User, email)
    if user is None:
        return False
    await db.delete(user)
    return True


async def mark_disabled(*, db: AsyncSession, email: str, disabled: bool) -> bool:
    """Disable or enable the user; False if there is none, or it was so already."""
    statement = (
        update(User)
        .where(col(User.email) == email, col(User.disabled).is_not(disabled))
        .values(disabled=disabled)
        .returning(col(User.email))
    )
    return (await db.scalars(statement)).first() is not None


@dataclass(frozen=True, slots=True)
class UserSummary:
    email: str
    created_at: datetime
    last_login: datetime
    sessions: int


async def list_users(*, db: AsyncSession) -> list[UserSummary]:
    """Every user by email, with their count of session rows."""
    statement = (
        select(
            col(User.email),
            col(User.created_at),
            col(User.last_login),
            func.count(col(SessionRow.id)),
        )
        .outerjoin(SessionRow, col(SessionRow.email) == col(User.email))
        .group_by(col(User.email))
        .order_by(col(User.email))
    )
    return [UserSummary(*row) for row in await db.execute(statement)]
