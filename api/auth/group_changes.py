"""Operators change the groups they manage (by hand: "manual", and invitations'), never a
provider's; each change is a user.groups_changed event, and reaches every process's cached
sessions of the user at once (Sessions.change_user)."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.events import USER_GROUPS_CHANGED, Actor, NewEvent
from api.auth.sessions import Sessions
from api.store.groups import (
    MANAGED,
    MANUAL,
    GroupMembership,
    add_groups,
    groups_of,
    list_groups,
    remove_groups,
)
from api.store.users import get_user


@dataclass(frozen=True, slots=True)
class GroupsChanged:
    """What a change did: groups added by hand, managed groups removed, the rows of removed
    names that other sources keep, and every group of the user afterwards."""

    added: list[str]
    removed: list[str]
    kept: list[GroupMembership]
    groups: list[str]


async def change_groups(
    sessions: Sessions,
    email: str,
    *,
    at: datetime,
    actor: Actor,
    add: Collection[str] = (),
    remove: Collection[str] = (),
    exactly: Collection[str] | None = None,
) -> GroupsChanged | None:
    """Add groups by hand and remove managed ones, or (`exactly`) make the managed groups
    exactly these; None if there is no such user. The names are checked already."""

    async def change(db: AsyncSession) -> tuple[GroupsChanged | None, list[NewEvent]]:
        if await get_user(db=db, email=email) is None:
            return None, []
        adding, removing = set(add), set(remove)
        if exactly is not None:
            rows = await list_groups(db=db, email=email)
            managed = {row.name for row in rows if row.source in MANAGED}
            adding, removing = set(exactly) - managed, managed - set(exactly)
        added = await add_groups(db=db, email=email, names=adding, source=MANUAL)
        removed = await remove_groups(db=db, email=email, names=removing, sources=MANAGED)
        kept = [row for row in await list_groups(db=db, email=email) if row.name in removing]
        changed = GroupsChanged(added, removed, kept, await groups_of(db=db, email=email))
        if not (added or removed):
            return changed, []
        data = {"added": added, "removed": removed, "groups": changed.groups, "source": MANUAL}
        return changed, [NewEvent(USER_GROUPS_CHANGED, at=at, actor=actor, email=email, data=data)]

    return await sessions.change_user(email, change)
