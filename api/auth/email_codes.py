"""Signing in with an email address alone: a six-digit code and a link, sent in one message.

Codes and links come from `secrets` and are kept only as keyed hashes (HMAC with a key derived
from SIGNET_SECRET_KEY), compared in constant time, used once, and valid for
SIGNET_EMAIL_CODE_TTL. Each start sends a code of its own and leaves the ones already sent alone
(so a stranger's start does not cancel yours); the three newest per email are kept. Every code
tried for an email counts against each of its live codes, and a code tried `ATTEMPTS_PER_CODE`
times is burned: five wrong codes burn every live code of the email, the right one too. Its link
still works, since it cannot be guessed. Attempts per email are rate limited as well, so that new
codes do not bring new guesses without end.
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth.providers.base import AssertionRejected, Identity
from api.auth.rate_limit import SignInLimits
from api.clock import Clock
from api.mail.mailer import Mailer, MailUnavailable
from api.mail.sign_in_message import refusal_message, sign_in_message
from api.observability.metrics import Metrics, NoMetrics
from api.store.email_codes import (
    claim_attempt,
    delete_expired_codes,
    find_code,
    insert_code,
    take_code,
)
from api.store.tables import EmailCode

PROVIDER = "email"
CODES_KEPT_PER_EMAIL = 3
ATTEMPTS_PER_CODE = 5
_CODE = re.compile(r"^[0-9]{6}$")
# What people paste: "123 456", "123-456".
_CODE_SEPARATORS = re.compile(r"[\s-]")
_LINK_TOKEN = re.compile(r"^([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$")


class CodeRejected(AssertionRejected):
    """A code or link that is wrong, expired, used or burned: one answer for all of them."""


@dataclass(frozen=True, slots=True)
class Redeemed:
    """Whom a code or link signs in, and where the browser goes next."""

    identity: Identity
    return_to: str


class EmailCodes:
    def __init__(
        self,
        *,
        db_sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        mailer: Mailer,
        limits: SignInLimits,
        secret_key: SecretStr,
        public_url: str,
        site_name: str,
        sender: str,
        ttl: int,
        admits: Callable[[str], Awaitable[bool]],
        metrics: Metrics | None = None,
    ) -> None:
        self._db_sessions = db_sessions
        self._clock = clock
        self._mailer = mailer
        self._limits = limits
        # A key of its own, so that a hash here is worth nothing anywhere else.
        self._key = hmac.new(
            secret_key.get_secret_value().encode(), b"signet.email-codes", hashlib.sha256
        ).digest()
        self._public_url = public_url
        self._site_name = site_name
        self._sender = sender
        self.ttl = ttl
        self._admits = admits
        self._metrics = metrics or NoMetrics()

    async def start(self, *, email: str, return_to: str, address: str) -> None:
        """Within the limits, send `email` a new code and link; `MailUnavailable` unless the
        mail server accepted the message, and then nothing is kept. An email the policy does not
        let in gets a short notice instead, after the same work, and nothing is kept either."""
        await self._limits.hit_email_start(email=email, address=address)
        now = self._clock()
        admitted = await self._admits(email)
        code_id, code, secret = secrets.token_urlsafe(12), _new_code(), secrets.token_urlsafe(32)
        message = sign_in_message(
            to=email,
            sender=self._sender,
            site_name=self._site_name,
            code=code,
            link=f"{self._public_url}/auth/email/verify?token={code_id}.{secret}",
            lifetime=self.ttl,
            now=now,
        )
        if not admitted:
            notice = refusal_message(
                to=email, sender=self._sender, site_name=self._site_name, now=now
            )
        try:
            await self._mailer.send(message if admitted else notice)
        except MailUnavailable:
            self._metrics.mail_sent(outcome="failed")
            raise
        self._metrics.mail_sent(outcome="sent")
        row = EmailCode(
            id=code_id,
            email=email,
            code_digest=self._digest("code", code_id, code),
            link_digest=self._digest("link", code_id, secret),
            return_to=return_to,
            created_at=now,
            expires_at=now + timedelta(seconds=self.ttl),
        )
        async with self._db_sessions() as db:
            await insert_code(
                db=db, code=row, keep=CODES_KEPT_PER_EMAIL, attempts=ATTEMPTS_PER_CODE
            )
            # Refused, the same statements, rolled back: the answer takes as long either way.
            await (db.commit() if admitted else db.rollback())

    async def redeem_code(self, *, email: str, code: str) -> Redeemed:
        """Within the limit on attempts, use up the live code `code` of `email`; else
        `CodeRejected` (the attempt counted all the same)."""
        await self._limits.hit_code_attempt(email)
        now = self._clock()
        code = _CODE_SEPARATORS.sub("", code)
        async with self._db_sessions() as db:
            candidates = await claim_attempt(
                db=db, email=email, now=now, attempts=ATTEMPTS_PER_CODE
            )
            await db.commit()  # the attempt counts, whatever comes of it
            # Every candidate is compared, so the time taken says nothing of which matched.
            matches = [
                row
                for row in candidates
                if hmac.compare_digest(self._digest("code", row.id, code), row.code_digest)
            ]
            if not (_CODE.fullmatch(code) and matches):
                raise CodeRejected("wrong, expired, used or burned code")
            taken = await take_code(db=db, code_id=matches[0].id, now=now)
            await db.commit()
        if taken is None:
            raise CodeRejected("code used by a request just before")
        return _redeemed(taken)

    async def email_of_link(self, token: str) -> str:
        """The email a live link signs in, without using it up; else `CodeRejected`."""
        async with self._db_sessions() as db:
            row = await self._row_of_link(db, token)
        return row.email

    async def redeem_link(self, token: str) -> Redeemed:
        """Use up the live link `token`; else `CodeRejected`."""
        async with self._db_sessions() as db:
            row = await self._row_of_link(db, token)
            taken = await take_code(db=db, code_id=row.id, now=self._clock())
            await db.commit()
        if taken is None:
            raise CodeRejected("link used by a request just before")
        return _redeemed(taken)

    async def _row_of_link(self, db: AsyncSession, token: str) -> EmailCode:
        parsed = _LINK_TOKEN.fullmatch(token)
        if parsed is None:
            raise CodeRejected("not a link token")
        code_id, secret = parsed.groups()
        row = await find_code(db=db, code_id=code_id, now=self._clock())
        if row is None:
            raise CodeRejected("unknown, expired or used link")
        if not hmac.compare_digest(self._digest("link", row.id, secret), row.link_digest):
            raise CodeRejected("link does not match")
        return row

    async def purge_expired(self, *, now: datetime) -> int:
        """Forget codes that could no longer be used; returns how many."""
        async with self._db_sessions() as db:
            purged = await delete_expired_codes(db=db, now=now)
            await db.commit()
        return purged

    def _digest(self, kind: str, code_id: str, value: str) -> str:
        return hmac.new(self._key, f"{kind}:{code_id}:{value}".encode(), hashlib.sha256).hexdigest()


def _new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def _redeemed(row: EmailCode) -> Redeemed:
    identity = Identity(email=row.email, issuer=PROVIDER, subject=row.email, email_verified=True)
    return Redeemed(identity=identity, return_to=row.return_to)
