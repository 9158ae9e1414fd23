"""Rate limits on signing in: per client address before the provider is asked, so that Signet
cannot be used to flood it, and per email once it is known, so that one account cannot be
signed in to in a loop. Emailed codes are limited when asked for, so that Signet cannot be used
to flood a mailbox: per (email, address), per email and per address, in 15-minute windows; and
codes tried per email, in hour-long windows, so that guessing gets nowhere.

Counted in the shared database, so a limit is exact however many workers and hosts there are:
fixed windows (each beginning at a whole multiple of its length), each attempt committed before
it is let through, the attempts of concurrent requests in one transaction (hit_writer.py). An
IPv6 client is limited by its network (a /64 unless SIGNET_RATE_LIMIT_IPV6_PREFIX says
otherwise), since one client commonly holds a whole /64.
"""

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.clock import Clock
from api.store.hit_writer import HitWriter
from api.store.rate_limits import delete_windows_before, hits_so_far

WINDOW_SECONDS = 60
EMAIL_START_WINDOW_SECONDS = 15 * 60
CODE_ATTEMPT_WINDOW_SECONDS = 60 * 60
# Counts are kept until the longest window has ended.
LONGEST_WINDOW_SECONDS = CODE_ATTEMPT_WINDOW_SECONDS


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


def _window_start(at: datetime, seconds: int = WINDOW_SECONDS) -> int:
    return math.floor(at.timestamp() / seconds) * seconds


@dataclass(frozen=True, slots=True)
class EmailLimits:
    """Codes sent per 15-minute window: to one email from one address, to one email, and from
    one address; and codes tried per email per hour; 0 turns one off."""

    per_address_and_email: int = 0
    per_email: int = 0
    per_address: int = 0
    # Codes tried per email per hour, right or wrong.
    code_attempts_per_email: int = 0


class SignInLimits:
    """The limits a sign-in passes, in attempts per window; 0 turns one off."""

    def __init__(
        self,
        *,
        db_sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        per_address: int,
        per_identity: int,
        ipv6_prefix: int = 64,
        email_limits: EmailLimits = EmailLimits(),
    ) -> None:
        self._db_sessions = db_sessions
        self._clock = clock
        self._per_address = per_address
        self._per_identity = per_identity
        self._ipv6_prefix = ipv6_prefix
        self._email_limits = email_limits
        self._hits = HitWriter(db_sessions)

    async def hit_address(self, address: str) -> None:
        """Count an attempt from `address`, or raise `TooManyRequests`."""
        limited = limited_as(address, ipv6_prefix=self._ipv6_prefix)
        await self._hit(f"address:{limited}", self._per_address)

    async def hit_passkey_options(self, address: str) -> None:
        """Count passkey sign-in options issued to `address`, or raise `TooManyRequests`."""
        limited = limited_as(address, ipv6_prefix=self._ipv6_prefix)
        await self._hit(f"passkey-options:{limited}", self._per_address)

    async def hit_identity(self, email: str) -> None:
        """Count an attempt to sign in as `email`, or raise `TooManyRequests`."""
        await self._hit(f"email:{email}", self._per_identity)

    async def hit_email_start(self, *, email: str, address: str) -> None:
        """Count a code sent to `email` at the request of `address`, or `TooManyRequests`."""
        limited = limited_as(address, ipv6_prefix=self._ipv6_prefix)
        limits, window = self._email_limits, EMAIL_START_WINDOW_SECONDS
        await self._hit(f"email-start:{email} {limited}", limits.per_address_and_email, window)
        await self._hit(f"email-start-email:{email}", limits.per_email, window)
        await self._hit(f"email-start-address:{limited}", limits.per_address, window)

    async def hit_code_attempt(self, email: str) -> None:
        """Count a code tried for `email`, or `TooManyRequests`."""
        limit = self._email_limits.code_attempts_per_email
        await self._hit(f"code-attempt:{email}", limit, CODE_ATTEMPT_WINDOW_SECONDS)

    async def hit_admin_key_failure(self, address: str) -> None:
        """Count a missing, unknown or revoked admin key from `address`, or `TooManyRequests`."""
        await self._hit(self._admin_key_failures(address), self._per_address)

    async def refuse_if_admin_key_failures(self, address: str) -> None:
        """`TooManyRequests` while `address` is over its limit of failed admin keys: then even
        a right key waits, so that guessing gains nothing."""
        if self._per_address <= 0:
            return
        now = self._clock()
        window_start = _window_start(now)
        key = hashlib.sha256(self._admin_key_failures(address).encode()).hexdigest()
        async with self._db_sessions() as db:
            hits = await hits_so_far(db=db, key=key, window_start=window_start)
        if hits >= self._per_address:
            raise TooManyRequests(window_start + WINDOW_SECONDS - now.timestamp())

    def _admin_key_failures(self, address: str) -> str:
        return f"admin-key:{limited_as(address, ipv6_prefix=self._ipv6_prefix)}"

    async def _hit(self, what: str, limit: int, window: int = WINDOW_SECONDS) -> None:
        if limit <= 0:
            return
        now = self._clock()
        window_start = _window_start(now, window)
        # A digest: the table holds no addresses or emails.
        key = hashlib.sha256(what.encode()).hexdigest()
        hits = await self._hits.hit(key, window_start)
        if hits > limit:
            raise TooManyRequests(window_start + window - now.timestamp())

    async def purge_expired(self, *, now: datetime) -> None:
        """Forget the counts of windows that have ended (the longest window's, too)."""
        async with self._db_sessions() as db:
            oldest_live = _window_start(now, LONGEST_WINDOW_SECONDS)
            await delete_windows_before(db=db, window_start=oldest_live)
            await db.commit()
