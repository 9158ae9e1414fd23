"""The delivery loop each worker runs beside answering requests: hand new events to each
webhook's deliveries, claim the due ones, POST them, and record what came of it.

Several workers and hosts run it at once: a claim is a lease in the database, renewed while the
POST is in flight, so each delivery goes out once; only a worker that dies mid-POST leaves its
lease to lapse (LEASE seconds) and the delivery to go out again (receivers dedupe on
webhook-id)."""

import asyncio
import functools
import logging
import random
from contextlib import suppress
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.clock import Clock
from api.observability.metrics import Metrics
from api.store.db import is_missing_table
from api.store.events import event_public
from api.store.operator_tables import EventRow
from api.store.webhook_deliveries import (
    Claim,
    attempts_of,
    backlog,
    claim_due,
    disable_webhook,
    events_of,
    fan_out,
    record_attempt,
    release,
    renew_leases,
    webhook_states,
)
from api.webhooks.backoff import retry_delay
from api.webhooks.config import WebhookConfig
from api.webhooks.sender import Attempt, attempt

logger = logging.getLogger("signet.webhooks")

POLL = 0.5  # seconds between rounds
LEASE = 5.0  # seconds a claim holds unless renewed
RENEW_EVERY = 1.0
MAX_IN_FLIGHT = 32
FAN_OUT_BATCH = 500
# How long a stopping worker lets its POSTs finish before it gives their claims up: as long as
# a POST may take (sender.py), so that a restart sends nothing twice.
STOP_GRACE = 10.0


class Deliveries:
    """The delivery loop of one worker, for the configured webhooks."""

    def __init__(
        self,
        *,
        configs: tuple[WebhookConfig, ...],
        db_sessions: async_sessionmaker[AsyncSession],
        http_client: httpx.AsyncClient,
        clock: Clock,
        metrics: Metrics,
        retry_min: float,
        retry_max: float,
        max_age: float,
        poll: float = POLL,
    ) -> None:
        self._configs = {config.name: config for config in configs}
        self._db_sessions = db_sessions
        self._client = http_client
        self._clock = clock
        self._metrics = metrics
        self._retry_min, self._retry_max = retry_min, retry_max
        self._max_age = timedelta(seconds=max_age)
        self._poll = poll
        self._rng = random.Random()  # noqa: S311  (jitter, not a secret)
        self._in_flight: dict[Claim, asyncio.Task[None]] = {}
        self._renewed = 0.0
        self._disabled: set[str] = set()
        self._failing = False

    async def run(self, stopping: asyncio.Event) -> None:
        """Rounds every POLL seconds until `stopping` is set; then the POSTs in flight get
        STOP_GRACE seconds to finish, and the claims of the rest are given up."""
        try:
            while not stopping.is_set():
                try:
                    await self.round()
                    self._failing = False
                except Exception as error:
                    self._failed(error)
                with suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), timeout=self._poll)
        finally:
            await self._stop()

    async def round(self) -> None:
        """Hand out new events, keep the leases in flight, claim and start what is due."""
        now = self._clock()
        async with self._db_sessions() as db:
            for config in self._configs.values():
                await fan_out(
                    db=db,
                    name=config.name,
                    digest=config.digest,
                    wants=config.wants,
                    now=now,
                    limit=FAN_OUT_BATCH,
                )
            await db.commit()
            states = await webhook_states(db=db)
            self._disabled = {
                name
                for name, state in states.items()
                if name in self._configs and state.disabled_at is not None
            }
            loop_time = asyncio.get_running_loop().time()
            if self._in_flight and loop_time - self._renewed >= RENEW_EVERY:
                await renew_leases(
                    db=db, claims=list(self._in_flight), lease_until=self._lease_from(now)
                )
                await db.commit()
                self._renewed = loop_time
            enabled = [name for name in self._configs if name not in self._disabled]
            claims = await claim_due(
                db=db,
                webhooks=enabled,
                now=now,
                lease_until=self._lease_from(now),
                limit=MAX_IN_FLIGHT - len(self._in_flight),
            )
            await db.commit()
            events = await events_of(db=db, ids=[event_id for _, event_id in claims])
            pending = await backlog(db=db)
        for name in self._configs:
            self._metrics.webhook_backlog(webhook=name, pending=pending.get(name, 0))
        for claim in claims:
            task = asyncio.create_task(self._deliver(claim, events.get(claim[1])))
            self._in_flight[claim] = task
            task.add_done_callback(functools.partial(self._landed, claim))

    def _failed(self, error: Exception) -> None:
        """Log a failing round once, not every POLL seconds, until a round succeeds again."""
        if self._failing:
            return
        self._failing = True
        if is_missing_table(error):
            logger.error("webhook delivery failed: the database is not migrated")
        else:
            logger.exception("webhook delivery round failed; trying again every %g s", self._poll)

    def _landed(self, claim: Claim, _: "asyncio.Task[None]") -> None:
        self._in_flight.pop(claim, None)

    def _lease_from(self, now: datetime) -> datetime:
        return now + timedelta(seconds=LEASE)

    async def _deliver(self, claim: Claim, event: EventRow | None) -> None:
        webhook, event_id = claim
        config = self._configs[webhook]
        try:
            if event is None:  # cannot be while it is pending (see purge_events); said anyway
                result = Attempt(error="the event is no longer in the audit log")
            else:
                body = event_public(event).model_dump_json().encode()
                try:
                    result = await attempt(
                        self._client, config, event_id=event_id, body=body, at=self._clock()
                    )
                except Exception as error:
                    # A fault of Signet's, not the receiver's: a failed try all the same, so
                    # the backoff and the max age hold, rather than a retry every lease.
                    logger.exception("sending event %d to webhook %s failed", event_id, webhook)
                    result = Attempt(error=f"Signet could not send it ({type(error).__name__})")
            await self._record(claim, event, result)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The lease lapses and another round tries it again.
            logger.exception("recording webhook %s's delivery of event %d failed", *claim)

    async def _record(self, claim: Claim, event: EventRow | None, result: Attempt) -> None:
        webhook, event_id = claim
        now = self._clock()
        async with self._db_sessions() as db:
            if result.error is None:
                outcome, next_at = "delivered", None
            elif result.gone:
                outcome, next_at = "disabled", None
                logger.warning(
                    "webhook %s answered 410 Gone: disabled until its settings change", webhook
                )
            else:
                attempts = await attempts_of(db=db, claim=claim)
                next_at = self._next_attempt(attempts + 1, event, now, result.retry_after)
                outcome = "retrying" if next_at is not None else "failed"
                if next_at is None:
                    logger.warning(
                        "webhook %s: event %d failed for good: %s", webhook, event_id, result.error
                    )
            await record_attempt(
                db=db, claim=claim, now=now, error=result.error, next_attempt_at=next_at
            )
            if result.gone and result.error is not None:
                await disable_webhook(db=db, name=webhook, now=now, error=result.error)
            await db.commit()
        self._metrics.webhook_delivery(webhook=webhook, outcome=outcome)

    def _next_attempt(
        self, attempts: int, event: EventRow | None, now: datetime, retry_after: float | None
    ) -> datetime | None:
        """When to try again, or None once the event is older than SIGNET_WEBHOOKS_MAX_AGE (the
        last try is made at that age)."""
        if event is None:
            return None
        deadline = event.at + self._max_age
        if now >= deadline:
            return None
        delay = retry_delay(
            attempts,
            least=self._retry_min,
            most=self._retry_max,
            retry_after=retry_after,
            rng=self._rng,
        )
        # Capped first: a Retry-After of centuries does not fit in a datetime.
        delay = min(delay, (deadline - now).total_seconds())
        return min(now + timedelta(seconds=delay), deadline)

    async def _stop(self) -> None:
        tasks = list(self._in_flight.values())
        if not tasks:
            return
        _, unfinished = await asyncio.wait(tasks, timeout=STOP_GRACE)
        claims = [claim for claim, task in self._in_flight.items() if task in unfinished]
        for task in unfinished:
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        with suppress(Exception):  # if the database is there; else the leases lapse
            async with self._db_sessions() as db:
                await release(db=db, claims=claims)
                await db.commit()
