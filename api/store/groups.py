"""The groups of users, each row with its source: "manual" (by hand), "invitation", or
"provider:<name>" (replaced at each sign-in through that provider). A user is in a group if any
source says so. Names are checked before they come here (api/auth/groups.py). The caller
commits."""

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from api.store.tables import UserGroup
from api.store.users import dialect_insert

USER_GROUPS = SQLModel.metadata.tables[UserGroup.__tablename__]
MANUAL = "manual"
INVITATION = "invitation"
# The sources an operator manages, which a sign-in never touches.
MANAGED = (MANUAL, INVITATION)


def provider_source(provider: str) -> str:
    return f"provider:{provider}"


@dataclass(frozen=True, slots=True)
class GroupMembership:
    email: str
    name: str
    source: str


async def groups_of(*, db: AsyncSession, email: str) -> list[str]:
    """The user's groups, whatever their source, each once, sorted."""
    return (await groups_of_many(db=db, emails=[email]))[email]


async def groups_of_many(*, db: AsyncSession, emails: Iterable[str]) -> dict[str, list[str]]:
    """Each user's groups (as `groups_of`), by email, in one SELECT; [] for one with none."""
    wanted = set(emails)
    found: dict[str, list[str]] = {email: [] for email in wanted}
    if not wanted:
        return found
    statement = (
        select(col(UserGroup.email), col(UserGroup.name))
        .where(col(UserGroup.email).in_(wanted))
        .distinct()
        .order_by(col(UserGroup.email), col(UserGroup.name))
    )
    for email, name in await db.execute(statement):
        found[email].append(name)
    return found


async def add_groups(
    *, db: AsyncSession, email: str, names: Collection[str], source: str
) -> list[str]:
    """Put the user in these groups from `source`; returns those they were not yet in from it,
    sorted. The user must exist."""
    have = set(await _names_from(db, email, [source]))
    added = sorted(set(names) - have)
    if added:
        insert = dialect_insert(db.get_bind().dialect.name, USER_GROUPS)
        rows = [{"email": email, "name": name, "source": source} for name in added]
        await db.execute(insert.on_conflict_do_nothing(), rows)
    return added


async def remove_groups(
    *, db: AsyncSession, email: str, names: Collection[str], sources: Collection[str] = MANAGED
) -> list[str]:
    """Take the user out of these groups as far as `sources` put them there (by default, the
    operator's: by hand and by invitation); returns the names removed, sorted."""
    if not names or not sources:
        return []
    statement = (
        delete(UserGroup)
        .where(
            col(UserGroup.email) == email,
            col(UserGroup.name).in_(set(names)),
            col(UserGroup.source).in_(set(sources)),
        )
        .returning(col(UserGroup.name))
    )
    return sorted(set((await db.scalars(statement)).all()))


async def replace_provider_groups(
    *, db: AsyncSession, email: str, provider: str, names: Collection[str]
) -> bool:
    """Make the user's groups from `provider` exactly `names` (its claim at this sign-in),
    leaving every other source's alone; returns whether anything changed."""
    source = provider_source(provider)
    have = set(await _names_from(db, email, [source]))
    gone = have - set(names)
    removed = await remove_groups(db=db, email=email, names=gone, sources=[source])
    added = await add_groups(db=db, email=email, names=set(names) - have, source=source)
    return bool(removed or added)


async def list_groups(*, db: AsyncSession, email: str | None = None) -> list[GroupMembership]:
    """Every group row (of one user, with `email`), by email, name and source."""
    statement = select(UserGroup).order_by(
        col(UserGroup.email), col(UserGroup.name), col(UserGroup.source)
    )
    if email is not None:
        statement = statement.where(col(UserGroup.email) == email)
    return [
        GroupMembership(email=row.email, name=row.name, source=row.source)
        for row in await db.scalars(statement)
    ]


async def _names_from(db: AsyncSession, email: str, sources: Collection[str]) -> list[str]:
    statement = select(col(UserGroup.name)).where(
        col(UserGroup.email) == email, col(UserGroup.source).in_(set(sources))
    )
    return list((await db.scalars(statement)).all())
