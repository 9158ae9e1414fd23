"""Invitations: at most one live per email, listed, revoked, and spent by that email's first
sign-in. Live means neither revoked nor spent, and not expired. The caller commits."""

import secrets
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.store.tables import Invitation, User

LIVE, EXPIRED, REVOKED, SPENT = "live", "expired", "revoked", "spent"


class LiveInvitationExists(Exception):
    """The email has a live invitation already (its id is the argument)."""

    def __init__(self, invitation_id: str) -> None:
        super().__init__(invitation_id)
        self.invitation_id = invitation_id


class AlreadyAUser(Exception):
    """The email is a user's already: they need no invitation."""


def invited_groups(invitation: Invitation) -> list[str]:
    return invitation.groups.split(",") if invitation.groups else []


def invitation_state(invitation: Invitation, now: datetime) -> str:
    """live, expired, revoked or spent (spent and revoked before expired: they say more)."""
    if invitation.spent_at is not None:
        return SPENT
    if invitation.revoked_at is not None:
        return REVOKED
    return LIVE if invitation.expires_at > now else EXPIRED


async def create_invitation(
    *,
    db: AsyncSession,
    email: str,
    groups: Collection[str],
    now: datetime,
    lifetime: timedelta,
) -> Invitation:
    """Invite `email` (canonical) with these (checked) groups until `now + lifetime`.

    Refused with `LiveInvitationExists` while the email has a live invitation, and with
    `AlreadyAUser` if it is a user's; concurrent creates for one email are serialised, so that
    at most one of them is live.
    """
    if any("," in name for name in groups):
        raise ValueError("group names cannot hold commas")
    await _one_writer_per_email(db, email)
    live = await db.scalar(select(col(Invitation.id)).where(*_live(email, now)).limit(1))
    if live is not None:
        raise LiveInvitationExists(live)
    if await db.get(User, email) is not None:
        raise AlreadyAUser(email)
    invitation = Invitation(
        # Hex: an id that began with "-" (as url-safe ones may) would read as an option.
        id=secrets.token_hex(12),
        email=email,
        groups=",".join(sorted(set(groups))),
        created_at=now,
        expires_at=now + lifetime,
    )
    db.add(invitation)
    await db.flush()
    return invitation


async def _one_writer_per_email(db: AsyncSession, email: str) -> None:
    """Hold, until the transaction ends, the right to create the email's invitation."""
    if db.get_bind().dialect.name == "postgresql":
        key = func.hashtext(f"signet invitation {email}")
        await db.execute(select(func.pg_advisory_xact_lock(key)))
    else:
        # SQLite's driver begins a transaction only at the first write, and SQLite lets one
        # writer in at a time: writing first (nothing, to any row) makes the check and the
        # insert one writer's, and a concurrent create waits for it (busy_timeout).
        await db.execute(
            update(Invitation).where(col(Invitation.email) == email).values(email=email)
        )


async def list_invitations(*, db: AsyncSession, email: str | None = None) -> list[Invitation]:
    """Every invitation (of one email, with `email`), oldest first."""
    statement = select(Invitation).order_by(col(Invitation.created_at), col(Invitation.id))
    if email is not None:
        statement = statement.where(col(Invitation.email) == email)
    return list((await db.scalars(statement)).all())


async def invitations_page(
    *, db: AsyncSession, after: tuple[datetime, str] | None, limit: int
) -> list[Invitation]:
    """Up to `limit` invitations, oldest first (by creation, then id), those after `after`
    (the (created_at, id) of the last one of the page before)."""
    statement = (
        select(Invitation).order_by(col(Invitation.created_at), col(Invitation.id)).limit(limit)
    )
    if after is not None:
        created, invitation_id = after
        statement = statement.where(
            or_(
                col(Invitation.created_at) > created,
                and_(col(Invitation.created_at) == created, col(Invitation.id) > invitation_id),
            )
        )
    return list((await db.scalars(statement)).all())


async def get_invitation(*, db: AsyncSession, invitation_id: str) -> Invitation | None:
    return await db.get(Invitation, invitation_id)


async def revoke_invitation(*, db: AsyncSession, invitation_id: str, now: datetime) -> bool:
    """Revoke the invitation if it is live; False if there is none of that id or it is not."""
    statement = (
        update(Invitation)
        .where(col(Invitation.id) == invitation_id, *_unused(now))
        .values(revoked_at=now)
        .returning(col(Invitation.id))
    )
    return (await db.scalars(statement)).first() is not None


async def take_live_invitation(*, db: AsyncSession, email: str, now: datetime) -> Invitation | None:
    """The email's live invitation, spent at `now` in this transaction; None if it has none.

    One UPDATE, so that of two concurrent first sign-ins only one spends it: the other waits
    for the row and finds it spent (PostgreSQL re-reads a row it waited for; SQLite lets one
    writer in at a time). If the transaction rolls back, the invitation stays live.
    """
    statement = (
        update(Invitation)
        .where(*_live(email, now))
        .values(spent_at=now)
        .returning(Invitation)
        .execution_options(synchronize_session=False)
    )
    taken = list((await db.execute(statement)).scalars())
    return min(taken, key=lambda invitation: invitation.created_at) if taken else None


def _unused(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        col(Invitation.revoked_at).is_(None),
        col(Invitation.spent_at).is_(None),
        col(Invitation.expires_at) > now,
    )


def _live(email: str, now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (col(Invitation.email) == email, *_unused(now))


async def user_or_live_invitation(*, db: AsyncSession, email: str, now: datetime) -> bool:
    """Whether the email is a user's or has a live invitation, in one statement."""
    user = select(col(User.email)).where(col(User.email) == email)
    invited = select(col(Invitation.email)).where(*_live(email, now))
    return (await db.scalar(select(user.union_all(invited).exists()))) is True
