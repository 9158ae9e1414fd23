"""Signet with webhooks, as the webhook tests run it: in-process on the real clock (receivers
check the timestamp), with retries fast enough for a test."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col

from api.config import Settings
from api.services import services_of
from api.store.events import events_after
from api.store.operator_tables import WebhookDelivery, WebhookState
from tests.apps import running, suite_settings
from tests.webhook_receiver import SECRET, eventually


def webhook_settings(database_url: str, url: str, **changes: Any) -> Settings:
    """The suite's settings with one webhook, `hook`, at `url`; `variables` adds to its
    SIGNET_WEBHOOK_HOOK_* (by field), and other `changes` are settings."""
    variables = {"URL": url, "SECRET": SECRET, **changes.pop("variables", {})}
    return suite_settings(
        database_url,
        webhooks=changes.pop("webhooks", "hook"),
        webhook_variables={f"SIGNET_WEBHOOK_HOOK_{key}": value for key, value in variables.items()},
        webhooks_retry_min=0.05,
        webhooks_retry_max=0.2,
        **changes,
    )


@asynccontextmanager
async def signet(settings: Settings, **replacements: Any) -> AsyncIterator[FastAPI]:
    """The app running, once its delivery loop has seen each webhook (so that every event
    written afterwards is owed to it)."""
    async with running(settings, **replacements) as app:
        names = set(settings.webhooks)
        await eventually(lambda: _seen(app, names))
        yield app


async def _seen(app: FastAPI, names: set[str]) -> bool:
    async with services_of(app).db_sessions() as db:
        seen = set((await db.scalars(select(col(WebhookState.name)))).all())
    return names <= seen


async def sign_in(app: FastAPI, email: str) -> None:
    """A session started as a sign-in starts one: user.created (the first time), session.created."""
    services = services_of(app)
    await services.auth.start_session(email=email, transport=services.transports.cookie)


async def event_ids(app: FastAPI, *, after: int = 0, types: tuple[str, ...] = ()) -> list[int]:
    async with services_of(app).db_sessions() as db:
        rows = await events_after(db=db, after=after, limit=10_000, types=types)
    return [row.id for row in rows if row.id is not None]


async def deliveries(app: FastAPI) -> dict[int, WebhookDelivery]:
    async with services_of(app).db_sessions() as db:
        rows = (await db.scalars(select(WebhookDelivery))).all()
    return {row.event_id: row for row in rows}
