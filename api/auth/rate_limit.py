"""Rate limits on signing in: per client address before the provider is asked, so that Signet
cannot be used to flood it, and per email once it is known, so that one account cannot be
signed in to in a loop.

Counted in the shared database, so a limit is exact however many workers and hosts there are:
fixed windows of 60 seconds (each beginning at a whole minute), one statement per attempt. An
IPv6 client is limited by its network (a /64 unless SIGNET_RATE_LIMIT_IPV6_PREFIX says
otherwise), since one client commonly holds a whole /64.
"""

import hashlib
import ipaddress
import math
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.clock import Clock
from api.store.rate_limits import count_hit, delete_windows_before

WINDOW_SECONDS = 60


class TooManyRequests(Exception):
    """Over a limit; `retry_after` seconds until the next attempt would be allowed."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after:.1f} s")
        self.retry_after = retry_after


def limited_as(address: str, *, ipv6_prefix: int) -> str:
    """What a client address counts as: an IPv4 address itself, an IPv6 one its network."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, ipv6_prefix), strict=False))
    return str(ip)


def _window_start(at: datetime) -> int:
    return math.floor(at.timestamp() / WINDOW_SECONDS) * WINDOW_SECONDS


class SignInLimits:
    """The two limits a sign-in passes, in attempts per window; 0 turns one off."""

    def __init__(
        self,
        *,
        db_sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        per_address: int,
        per_identity: int,
        ipv6_prefix: int = 64,
    ) -> None:
        self._db_sessions = db_sessions
        self._clock = clock
        self._per_address = per_address
        self._per_identity = per_identity
        self._ipv6_prefix = ipv6_prefix

    async def hit_address(self, address: str) -> None:
        """Count an attempt from `address`, or raise `TooManyRequests`."""
        limited = limited_as(address, ipv6_prefix=self._ipv6_prefix)
        await self._hit(f"address:{limited}", self._per_address)

    async def hit_identity(self, email: str) -> None:
        """Count an attempt to sign in as `email`, or raise `TooManyRequests`."""
        await self._hit(f"email:{email}", self._per_identity)

    async def _hit(self, what: str, limit: int) -> None:
        if limit <= 0:
            return
        now = self._clock()
        window_start = _window_start(now)
        # A digest: the table holds no addresses or emails.
        key = hashlib.sha256(what.encode()).hexdigest()
        async with self._db_sessions() as db:
            hits = await count_hit(db=db, key=key, window_start=window_start)
            await db.commit()
        if hits > limit:
            raise TooManyRequests(window_start + WINDOW_SECONDS - now.timestamp())

    async def purge_expired(self, *, now: datetime) -> None:
        """Forget the counts of windows that have ended."""
        async with self._db_sessions() as db:
            await delete_windows_before(db=db, window_start=_window_start(now))
            await db.commit()
