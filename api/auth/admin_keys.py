"""Admin keys: `sk_` and 32 random bytes (base64url), shown once; only their SHA-256 is kept.
The key's own entropy makes a keyed hash needless, and rotating SIGNET_SECRET_KEY leaves them
working. Presented as `Authorization: Bearer <key>` to the admin API, never in a cookie."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth.events import ADMIN_KEY_CREATED, ADMIN_KEY_REVOKED, Actor, NewEvent
from api.auth.rate_limit import SignInLimits
from api.clock import Clock
from api.store.admin_keys import add_admin_key, find_admin_key, revoke_admin_key, stamp_admin_key
from api.store.events import append_events
from api.store.operator_tables import AdminKey

PREFIX = "sk_"
# 32 bytes in base64url, and room to spare: anything longer is not a key of ours.
MAX_KEY_LENGTH = 96
# last_used is written at most this often per key: a busy script must not write per request.
STAMP_EVERY = timedelta(minutes=1)


class BadAdminKey(Exception):
    """No admin key, or one that is unknown or revoked."""


@dataclass(frozen=True, slots=True)
class NewAdminKey:
    row: AdminKey
    key: str


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class AdminKeys:
    def __init__(
        self,
        *,
        db_sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        limits: SignInLimits | None = None,
    ) -> None:
        self._db_sessions = db_sessions
        self._clock = clock
        self._limits = limits

    async def create(self, name: str, *, actor: Actor) -> NewAdminKey:
        """A new key named `name`; the key itself is in the answer and nowhere else."""
        key = PREFIX + secrets.token_urlsafe(32)
        now = self._clock()
        async with self._db_sessions() as db:
            row = await add_admin_key(db=db, name=name, digest=key_digest(key), now=now)
            data = {"key_id": row.id, "name": name}
            await append_events(
                db=db, events=[NewEvent(ADMIN_KEY_CREATED, at=now, actor=actor, data=data)]
            )
            await db.commit()
        return NewAdminKey(row=row, key=key)

    async def revoke(self, key_id: str, *, actor: Actor) -> AdminKey | None:
        """Revoke a live key; None if there is no live key of that id."""
        now = self._clock()
        async with self._db_sessions() as db:
            row = await revoke_admin_key(db=db, key_id=key_id, now=now)
            if row is None:
                return None
            data = {"key_id": row.id, "name": row.name}
            await append_events(
                db=db, events=[NewEvent(ADMIN_KEY_REVOKED, at=now, actor=actor, data=data)]
            )
            await db.commit()
        return row

    async def authenticate(self, key: str | None, *, address: str) -> Actor:
        """The admin key's actor; `BadAdminKey` for a missing, unknown or revoked one, and
        `TooManyRequests` once `address` has presented too many of those."""
        if self._limits is not None:
            await self._limits.refuse_if_admin_key_failures(address)
        row = await self._find(key)
        if row is None:
            if self._limits is not None:
                await self._limits.hit_admin_key_failure(address)
            raise BadAdminKey
        now = self._clock()
        if row.last_used is None or now - row.last_used >= STAMP_EVERY:
            async with self._db_sessions() as db:
                await stamp_admin_key(db=db, key_id=row.id, now=now)
                await db.commit()
        return Actor.admin_key(row.id)

    async def _find(self, key: str | None) -> AdminKey | None:
        if not key or not key.startswith(PREFIX) or len(key) > MAX_KEY_LENGTH:
            return None
        digest = key_digest(key)
        async with self._db_sessions() as db:
            row = await find_admin_key(db=db, digest=digest)
        # The lookup is by digest; compared again in constant time all the same.
        if row is None or not hmac.compare_digest(row.digest, digest) or row.revoked_at:
            return None
        return row
