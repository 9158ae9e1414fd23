"""Users as operators list them: filtered, a page at a time in email order (keyset: a page stays
right while users come and go around it), each with their groups, providers and live sessions
counted. The caller commits nothing: these only read."""

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.store.groups import groups_of_many
from api.store.tables import IdentityRow, SessionRow, User, UserGroup


@dataclass(frozen=True, slots=True)
class UserFilter:
    """Which users to list: each given condition must hold."""

    email_prefix: str | None = None
    group: str | None = None
    provider: str | None = None
    disabled: bool | None = None


@dataclass(frozen=True, slots=True)
class ListedUser:
    email: str
    email_verified: bool
    created_at: datetime
    last_login: datetime
    disabled: bool
    groups: list[str]
    providers: list[str]
    sessions: int


def prefix_of(text: str) -> str:
    """An email prefix as emails are kept: NFC and lower-cased (the local part is; so is a
    domain in its Unicode spelling)."""
    return unicodedata.normalize("NFC", text.strip().lower())


async def users_page(
    *, db: AsyncSession, which: UserFilter, after: str | None, limit: int, now: datetime
) -> list[ListedUser]:
    """Up to `limit` users matching `which` with an email above `after`, in email order."""
    statement = select(User).order_by(col(User.email)).limit(limit)
    if after is not None:
        statement = statement.where(col(User.email) > after)
    if which.email_prefix:
        prefix = prefix_of(which.email_prefix)
        statement = statement.where(col(User.email).startswith(prefix, autoescape=True))
    if which.disabled is not None:
        statement = statement.where(col(User.disabled).is_(which.disabled))
    if which.group is not None:
        statement = statement.where(
            exists().where(
                col(UserGroup.email) == col(User.email), col(UserGroup.name) == which.group
            )
        )
    if which.provider is not None:
        statement = statement.where(
            exists().where(
                col(IdentityRow.email) == col(User.email),
                col(IdentityRow.provider) == which.provider,
            )
        )
    users = list((await db.scalars(statement)).all())
    return await with_details(db=db, users=users, now=now)


async def with_details(*, db: AsyncSession, users: list[User], now: datetime) -> list[ListedUser]:
    """The users with their groups, providers and live sessions, three SELECTs for them all."""
    emails = [user.email for user in users]
    groups = await groups_of_many(db=db, emails=emails)
    providers = await providers_of_many(db=db, emails=emails)
    sessions = await live_sessions_of_many(db=db, emails=emails, now=now)
    return [
        ListedUser(
            email=user.email,
            email_verified=user.email_verified,
            created_at=user.created_at,
            last_login=user.last_login,
            disabled=user.disabled,
            groups=groups[user.email],
            providers=providers.get(user.email, []),
            sessions=sessions.get(user.email, 0),
        )
        for user in users
    ]


async def providers_of_many(*, db: AsyncSession, emails: list[str]) -> dict[str, list[str]]:
    """The names of each user's linked providers, each once, sorted."""
    if not emails:
        return {}
    statement = (
        select(col(IdentityRow.email), col(IdentityRow.provider))
        .where(col(IdentityRow.email).in_(emails))
        .distinct()
        .order_by(col(IdentityRow.email), col(IdentityRow.provider))
    )
    found: dict[str, list[str]] = {}
    for email, provider in await db.execute(statement):
        found.setdefault(email, []).append(provider)
    return found


async def live_sessions_of_many(
    *, db: AsyncSession, emails: list[str], now: datetime
) -> dict[str, int]:
    """How many live sessions each user has (those with none are left out)."""
    if not emails:
        return {}
    statement = (
        select(col(SessionRow.email), func.count())
        .where(col(SessionRow.email).in_(emails), col(SessionRow.expires_at) > now)
        .group_by(col(SessionRow.email))
    )
    return {email: int(count) for email, count in await db.execute(statement)}
