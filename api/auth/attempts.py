"""Sign-in attempts: each outcome logged and counted; each failure recorded as a sign_in.failed
event too (in its own transaction: a refused sign-in changes nothing else)."""

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth.events import SIGN_IN_FAILED, Actor, NewEvent
from api.auth.sign_in_failures import failure_reason
from api.auth.transports import Transport
from api.clock import Clock
from api.observability.metrics import Metrics
from api.store.events import append_events

events = logging.getLogger("signet.events")


class Attempts:
    def __init__(
        self,
        *,
        db_sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        metrics: Metrics,
        log_emails: bool,
    ) -> None:
        self._clock = clock
        self._db_sessions = db_sessions
        self._metrics = metrics
        self._log_emails = log_emails

    def succeeded(self, transport: Transport, *, email: str) -> None:
        self._logged(transport, outcome="ok", email=email)

    async def failed(
        self,
        transport: Transport,
        error: Exception,
        *,
        provider: str,
        address: str,
        email: str | None,
        recorded: bool = True,
    ) -> None:
        """Log and count a failed sign-in, and unless not `recorded` (refused by the limit on
        attempts per address, which a flood must not turn into rows) write its event."""
        self._logged(transport, outcome=type(error).__name__, email=email or "")
        if not recorded:
            return
        data = {"provider": provider, "reason": failure_reason(error), "address": address}
        actor = Actor.user(email) if email else Actor("user")
        event = NewEvent(SIGN_IN_FAILED, at=self._clock(), actor=actor, email=email, data=data)
        async with self._db_sessions() as db:
            await append_events(db=db, events=[event])
            await db.commit()

    def _logged(self, transport: Transport, *, outcome: str, email: str) -> None:
        details = {"event": "login", "kind": str(transport.kind), "outcome": outcome}
        if email and self._log_emails:
            details["email"] = email
        events.info("login %s", outcome, extra=details)
        self._metrics.login(kind=str(transport.kind), outcome=outcome)
