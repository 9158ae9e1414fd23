"""Accounts: which user an identity signs in as, and the trust rules that keep an unverified
email from ever joining someone else's account ("nOAuth")."""

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth.events import (
    IDENTITY_LINKED,
    IDENTITY_UNLINKED,
    INVITATION_USED,
    SESSION_ENDED,
    TAKEOVER,
    USER_CREATED,
    USER_GROUPS_CHANGED,
    Actor,
    NewEvent,
)
from api.auth.passkey_sign_ins import passkey_account, remove_passkeys
from api.auth.policy import NotAllowed
from api.auth.providers.base import Identity
from api.auth.providers.config import RESERVED_NAME as PASSKEY
from api.auth.revocations import Revocations
from api.store.events import append_events
from api.store.groups import (
    INVITATION,
    add_groups,
    groups_of,
    provider_source,
    replace_provider_groups,
)
from api.store.identities import (
    add_identity,
    add_user,
    delete_identities,
    find_identities,
    find_identity,
    identities_of,
    mark_verified,
)
from api.store.invitations import (
    invited_groups,
    take_live_invitation,
    user_or_live_invitation,
)
from api.store.sessions import delete_user_sessions, session_ids_of
from api.store.sign_in_writer import Account, IdentityClaim, Login, sign_in_event
from api.store.tables import IdentityRow, User
from api.store.users import get_users


class AccountExists(Exception):
    """An unverified email names an existing user: it may not join them."""


class AccountDisabled(Exception):
    """An operator disabled the user: no sign-in until they enable them again."""


class IdentityInUse(Exception):
    """The provider account signs in as another user already."""


class NoSuchIdentity(Exception):
    """No identity of that id belongs to the user."""


class LastIdentity(Exception):
    """Removing the identity would leave the user no way to sign in."""


class Accounts:
    def __init__(
        self,
        *,
        db_sessions: async_sessionmaker[AsyncSession],
        revocations: Revocations,
        invite_only: bool = False,
    ) -> None:
        self._db_sessions = db_sessions
        self._revocations = revocations
        self._invite_only = invite_only

    async def resolve_all(self, db: AsyncSession, logins: list[Login]) -> list[Account | Exception]:
        """The user each login's identity claim signs in as, inside the sign-in writer's
        transaction (`db`): linked identities, and the users of the rest, in one SELECT each
        for the batch; a new identity linked on the spot, or refused with `AccountExists` (or
        `NotAllowed`: invite-only, and no live invitation) before anything of its login is
        written. The provider's groups claim, where it has one, replaces its groups."""
        claims = [login.claim for login in logins if login.claim is not None]
        passkeys = {c.email for c in claims if c.provider == PASSKEY}
        claims = [claim for claim in claims if claim.provider != PASSKEY]
        linked = await find_identities(db=db, keys=[(c.provider, c.subject) for c in claims])
        unlinked = {c.email for c in claims if (c.provider, c.subject) not in linked}
        emails = unlinked | passkeys | {row.email for row in linked.values()}
        users = await get_users(db=db, emails=emails)
        accounts: list[Account | Exception] = []
        for login in logins:
            claim = login.claim
            assert claim is not None  # the writer resolves only claimed logins
            row = linked.get((claim.provider, claim.subject))
            email = row.email if row is not None else claim.email
            user = users.get(email)
            if user is not None and user.disabled:
                accounts.append(AccountDisabled(email))
                continue
            if claim.provider == PASSKEY:
                accounts.append(await passkey_account(db, login, user))
                continue
            if row is not None:  # the writer stamps last_used
                account = Account(email=row.email, identity_id=row.id)
                accounts.append(await self._with_claimed_groups(db, account, login))
                continue
            try:
                account, linked[(claim.provider, claim.subject)] = await self._link(db, login, user)
            except (AccountExists, NotAllowed) as refused:
                accounts.append(refused)
            else:  # what later logins of this batch must see of the user now
                verified = claim.verified or (user is not None and user.email_verified)
                users[claim.email] = User(email=claim.email, email_verified=verified)
                accounts.append(await self._with_claimed_groups(db, account, login))
        return accounts

    async def may_sign_up(self, email: str, *, now: datetime) -> bool:
        """Whether the sign-up mode lets `email` sign in: open, or invite-only and the email is
        a user's or invited. Invite-only, asked of the database alike for every email."""
        if not self._invite_only:
            return True
        async with self._db_sessions() as db:
            return await user_or_live_invitation(db=db, email=email, now=now)

    async def _with_claimed_groups(
        self, db: AsyncSession, account: Account, login: Login
    ) -> Account:
        """The account, its groups from the claim's provider made the claim's; a change reaches
        every process's cached sessions of the user."""
        claim = login.claim
        assert claim is not None
        if claim.groups is None or not await replace_provider_groups(
            db=db, email=account.email, provider=claim.provider, names=claim.groups
        ):
            return account
        await self._revocations.announce(db, await session_ids_of(db=db, email=account.email))
        changed = sign_in_event(
            login,
            USER_GROUPS_CHANGED,
            email=account.email,
            groups=await groups_of(db=db, email=account.email),
            source=provider_source(claim.provider),
        )
        return replace(account, groups_changed=True, events=(*account.events, changed))

    async def _new_user(self, db: AsyncSession, login: Login) -> list[NewEvent]:
        """Create the claim's user: with a live invitation's groups, the invitation spent (a
        verified email's first sign-in); invite-only, not at all without one."""
        claim, now = login.claim, login.now
        assert claim is not None
        invitation = None
        if claim.verified:
            invitation = await take_live_invitation(db=db, email=claim.email, now=now)
        if invitation is None and self._invite_only:
            raise NotAllowed(claim.provider)
        await add_user(db=db, email=claim.email, verified=claim.verified, now=now)
        created = sign_in_event(login, USER_CREATED, email=claim.email, provider=claim.provider)
        if invitation is None:
            return [created]
        groups = invited_groups(invitation)
        await add_groups(db=db, email=claim.email, names=groups, source=INVITATION)
        used = sign_in_event(
            login, INVITATION_USED, email=claim.email, invitation_id=invitation.id, groups=groups
        )
        return [created, used]

    async def _link(
        self, db: AsyncSession, login: Login, user: User | None
    ) -> tuple[Account, IdentityRow]:
        claim, now = login.claim, login.now
        assert claim is not None
        events: list[NewEvent] = []
        if user is None:
            events += await self._new_user(db, login)
        elif not claim.verified:
            raise AccountExists(claim.email)
        taken_over = user is not None and not user.email_verified
        if taken_over:
            # The verified owner wins: the identities that only claimed the address go, and
            # with them their sessions (the caller evicts them from the session cache).
            stale = await identities_of(db=db, email=claim.email)
            await delete_identities(db=db, ids=[row.id for row in stale])
            ended = await delete_user_sessions(db=db, email=claim.email)
            await self._revocations.announce(db, [session_id for session_id, _ in ended])
            await mark_verified(db=db, email=claim.email)
            events += await remove_passkeys(db, login)
            events += [
                sign_in_event(login, IDENTITY_UNLINKED, email=claim.email, **_identity(row))
                for row in stale
            ]
            events += [
                sign_in_event(
                    login, SESSION_ENDED, email=claim.email, session_id=sid, reason=TAKEOVER
                )
                for sid, _ in ended
            ]
        added = await add_identity(
            db=db, provider=claim.provider, subject=claim.subject, email=claim.email, now=now
        )
        events.append(sign_in_event(login, IDENTITY_LINKED, email=claim.email, **_identity(added)))
        account = Account(
            email=claim.email, identity_id=added.id, taken_over=taken_over, events=tuple(events)
        )
        return account, added

    async def link(self, email: str, claim: IdentityClaim, *, now: datetime) -> None:
        """Add the provider account to the user `email` (a no-op if it is theirs already);
        `IdentityInUse` if it signs in as someone else."""
        async with self._db_sessions() as db:
            linked = await find_identity(db=db, provider=claim.provider, subject=claim.subject)
            if linked is not None:
                if linked.email != email:
                    raise IdentityInUse(claim.provider)
                return
            added = await add_identity(
                db=db, provider=claim.provider, subject=claim.subject, email=email, now=now
            )
            event = NewEvent(
                IDENTITY_LINKED, at=now, actor=Actor.user(email), email=email, data=_identity(added)
            )
            await append_events(db=db, events=[event])
            await db.commit()

    async def identities(self, email: str) -> list[IdentityRow]:
        """The user's identities, oldest first."""
        async with self._db_sessions() as db:
            return await identities_of(db=db, email=email)

    async def unlink(self, email: str, identity_id: str, *, now: datetime) -> None:
        """Remove one of the user's identities, never the last."""
        async with self._db_sessions() as db:
            rows = {row.id: row for row in await identities_of(db=db, email=email)}
            if identity_id not in rows:
                raise NoSuchIdentity(identity_id)
            if len(rows) == 1:
                raise LastIdentity(identity_id)
            await delete_identities(db=db, ids=[identity_id])
            event = NewEvent(
                IDENTITY_UNLINKED,
                at=now,
                actor=Actor.user(email),
                email=email,
                data=_identity(rows[identity_id]),
            )
            await append_events(db=db, events=[event])
            await db.commit()


def _identity(row: IdentityRow) -> dict[str, Any]:
    """An identity as events name it: its id and provider (the subject is the provider's)."""
    return {"identity_id": row.id, "provider": row.provider}


def claim_of(provider: str, identity: Identity) -> IdentityClaim:
    """Who `identity` says signs in through `provider`."""
    return IdentityClaim(
        provider=provider,
        subject=identity.subject or identity.email,
        email=identity.email,
        verified=identity.email_verified,
        groups=identity.groups,
        sign_count=identity.sign_count,
    )
