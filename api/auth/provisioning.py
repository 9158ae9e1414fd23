"""Users that operators create before their first sign-in (pre-provisioned): the user, the groups
they manage, and the user.created event, in one transaction.

Such a user has no identity yet and is kept unverified (email_verified false): an operator named
the address, but nobody has shown they hold it. The first sign-in whose provider vouches for the
address links its identity and marks the user verified (as for any unverified user,
api/auth/accounts.py); a provider that does not vouch for addresses cannot sign in as them.
Invite-only sign-up lets them in, as it lets in every user."""

from collections.abc import Collection
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth.events import USER_CREATED, Actor, NewEvent
from api.store.events import append_events
from api.store.groups import MANUAL, add_groups
from api.store.tables import User
from api.store.users import USERS, dialect_insert, get_user


class UserExists(Exception):
    """There is a user with this email already."""


async def create_user(
    db_sessions: async_sessionmaker[AsyncSession],
    email: str,
    *,
    groups: Collection[str],
    at: datetime,
    actor: Actor,
) -> User:
    """Create the user `email` (canonical) in these (checked) groups, by hand; `UserExists` if
    there is one (also when another request creates them at the same moment)."""
    async with db_sessions() as db:
        insert = dialect_insert(db.get_bind().dialect.name, USERS)
        # ON CONFLICT DO NOTHING: of two concurrent creates, the second finds the row (after
        # the first commits, on PostgreSQL) and inserts nothing, rather than failing.
        # last_login is the creation until a sign-in stamps it (the column is never empty).
        row = {"email": email, "created_at": at, "last_login": at, "email_verified": False}
        statement = (
            insert.values(row)
            .on_conflict_do_nothing(index_elements=["email"])
            .returning(USERS.c.email)
        )
        if (await db.execute(statement)).first() is None:
            raise UserExists(email)
        added = await add_groups(db=db, email=email, names=groups, source=MANUAL)
        data = {"groups": added}
        event = NewEvent(USER_CREATED, at=at, actor=actor, email=email, data=data)
        await append_events(db=db, events=[event])
        await db.commit()
        user = await get_user(db=db, email=email)
    assert user is not None  # just committed
    return user
