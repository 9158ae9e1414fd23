"""One-time proofs: a redirect flow's state or a posted ID token is accepted once, by every
worker and host together (the database remembers it until it could no longer be used)."""

import hashlib
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.store.spent_proofs import delete_expired_proofs, spend


class OneTimeProofs:
    def __init__(self, *, db_sessions: async_sessionmaker[AsyncSession]) -> None:
        self._db_sessions = db_sessions

    async def first_use(self, proof: str, *, until: datetime) -> bool:
        """Spend `proof` (kept only as a digest); False if it was spent before."""
        digest = hashlib.sha256(proof.encode()).hexdigest()
        async with self._db_sessions() as db:
            spent = await spend(db=db, digest=digest, expires_at=until)
            await db.commit()
        return spent

    async def purge_expired(self, *, now: datetime) -> int:
        """Forget proofs that could no longer be used anyway; returns how many."""
        async with self._db_sessions() as db:
            purged = await delete_expired_proofs(db=db, now=now)
            await db.commit()
        return purged
