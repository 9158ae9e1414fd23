"""Housekeeping: what every running worker does now and then, beside answering requests.
Each task ends once `stopping` is set (the lifespan sets it before the services close)."""

import asyncio
import logging
from contextlib import suppress
from datetime import timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from api.auth.email_codes import EmailCodes
from api.auth.one_time import OneTimeProofs
from api.auth.rate_limit import SignInLimits
from api.auth.sessions import Sessions
from api.clock import Clock
from api.config import Settings
from api.store.db import is_missing_table
from api.store.events import purge_events
from api.store.operator_tables import EventRow
from api.store.webhook_deliveries import lowest_cursor


class Services(Protocol):
    """What housekeeping uses of the services (api/services.py)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def db_sessions(self) -> async_sessionmaker[AsyncSession]: ...
    @property
    def sessions(self) -> Sessions: ...
    @property
    def one_time(self) -> OneTimeProofs: ...
    @property
    def limits(self) -> SignInLimits: ...
    @property
    def email_codes(self) -> EmailCodes | None: ...


logger = logging.getLogger("signet")


async def purge_expired_every(services: Services, stopping: asyncio.Event) -> None:
    """Delete expired session rows, spent proofs and emailed codes, and events older than
    SIGNET_EVENT_RETENTION, now and then, so they never pile up; each worker may run it. Ends
    once `stopping` is set."""
    while not stopping.is_set():
        try:
            now = services.clock()
            purged = await services.sessions.purge_expired(now=now)
            forgotten = await services.one_time.purge_expired(now=now)
            await services.limits.purge_expired(now=now)
            if services.email_codes is not None:
                forgotten += await services.email_codes.purge_expired(now=now)
            if purged or forgotten:
                logger.info("purged %d expired sessions, %d proofs and codes", purged, forgotten)
            events = await purge_old_events(services)
            if events:
                logger.info("purged %d events older than SIGNET_EVENT_RETENTION", events)
        except Exception as error:
            if is_missing_table(error):  # one line, not a traceback an hour
                logger.error("purging expired sessions failed: the database is not migrated")
            else:
                logger.exception("purging expired sessions failed; will try again")
        await _until(stopping, services.settings.session_purge_interval)


async def purge_old_events(services: Services) -> int:
    """Delete events older than SIGNET_EVENT_RETENTION, but none a webhook still owes: pending
    in a delivery, or not yet handed to every configured webhook's deliveries."""
    settings = services.settings
    before = services.clock() - timedelta(seconds=settings.event_retention)
    async with services.db_sessions() as db:
        # A look first: with nothing that old, nothing is written (on SQLite, a write, even of
        # no rows, takes the one lock).
        if (
            await db.scalar(select(col(EventRow.id)).where(col(EventRow.at) < before).limit(1))
            is None
        ):
            return 0
        webhooks = [config.name for config in settings.webhook_configs]
        keep_after = await lowest_cursor(db=db, webhooks=webhooks)
        purged = await purge_events(db=db, before=before, keep_after=keep_after, webhooks=webhooks)
        await db.commit()
    return purged


async def write_sightings_every(services: Services, stopping: asyncio.Event) -> None:
    """Write when sessions were last checked, a batch every SIGNET_SESSION_SEEN_INTERVAL, until
    `stopping` is set (the lifespan then writes the last ones)."""
    while not await _until(stopping, services.settings.session_seen_interval):
        try:
            await services.sessions.write_sightings()
        except Exception:
            logger.exception("writing session sightings failed; will try again")


async def _until(stopping: asyncio.Event, seconds: float) -> bool:
    """Wait `seconds`, or less if `stopping` is set first; whether it is."""
    with suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), timeout=seconds)
    return stopping.is_set()
