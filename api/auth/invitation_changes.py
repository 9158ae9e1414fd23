"""Invitations made and revoked by operators (the CLI, the admin API), each with its event in
the same transaction. A first sign-in spends one (api/auth/accounts.py)."""

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth.events import INVITATION_CREATED, INVITATION_REVOKED, Actor, NewEvent
from api.store.events import append_events
from api.store.invitations import (
    create_invitation,
    get_invitation,
    invitation_state,
    invited_groups,
    revoke_invitation,
)
from api.store.tables import Invitation


class InvitationNotLive(Exception):
    """The invitation exists but is spent, revoked or expired (its state is the argument)."""


async def invite(
    db_sessions: async_sessionmaker[AsyncSession],
    *,
    email: str,
    groups: Collection[str],
    lifetime: timedelta,
    at: datetime,
    actor: Actor,
) -> Invitation:
    """Invite `email` (canonical) with these (checked) groups; `LiveInvitationExists` or
    `AlreadyAUser` as create_invitation says."""
    async with db_sessions() as db:
        invitation = await create_invitation(
            db=db, email=email, groups=groups, now=at, lifetime=lifetime
        )
        data = {
            "invitation_id": invitation.id,
            "groups": invited_groups(invitation),
            "expires_at": invitation.expires_at.isoformat(),
        }
        event = NewEvent(INVITATION_CREATED, at=at, actor=actor, email=email, data=data)
        await append_events(db=db, events=[event])
        await db.commit()
    return invitation


async def revoke(
    db_sessions: async_sessionmaker[AsyncSession],
    invitation_id: str,
    *,
    at: datetime,
    actor: Actor,
) -> Invitation | None:
    """Revoke a live invitation; None if there is none of that id, `InvitationNotLive` if it is
    not live."""
    async with db_sessions() as db:
        invitation = await get_invitation(db=db, invitation_id=invitation_id)
        if invitation is None:
            return None
        if not await revoke_invitation(db=db, invitation_id=invitation_id, now=at):
            raise InvitationNotLive(invitation_state(invitation, at))
        data = {"invitation_id": invitation_id}
        event = NewEvent(INVITATION_REVOKED, at=at, actor=actor, email=invitation.email, data=data)
        await append_events(db=db, events=[event])
        await db.commit()
    return invitation
