"""The audit log's rows: appended in the transaction of each change, read in id order, purged
by age. The caller commits.

Ids increase in commit order: a reader that has seen id N will never later see a smaller one
commit, which `after=` and webhook delivery (a cursor per webhook) rely on. SQLite lets one
writer in at a time, so its ids are in commit order anyway; on PostgreSQL a sequence hands ids
out in insert order, so the transactions writing events take one lock from their first event to
their commit (`pg_advisory_xact_lock`). Events are therefore the last thing a transaction
writes: nothing else waits for a lock while holding this one.
"""

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, exists, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from api.auth.events import NewEvent
from api.store.operator_tables import EventRow, WebhookDelivery

EVENTS = SQLModel.metadata.tables[EventRow.__tablename__]
# Any number, the same in every process: the key of the lock that orders event ids.
EVENT_ORDER_LOCK = 0x5169_6E65_7445_7673


class EventActor(BaseModel):
    kind: str
    id: str | None


class EventPublic(BaseModel):
    """An event as the admin API lists it and webhooks receive it."""

    id: int
    type: str
    at: datetime
    email: str | None
    actor: EventActor
    request_id: str | None
    data: dict[str, Any]


def event_public(row: EventRow) -> EventPublic:
    assert row.id is not None  # a row read back has its id
    return EventPublic(
        id=row.id,
        type=row.type,
        at=row.at,
        email=row.email,
        actor=EventActor(kind=row.actor_kind, id=row.actor_id),
        request_id=row.request_id,
        data=json.loads(row.data),
    )


async def append_events(*, db: AsyncSession, events: Sequence[NewEvent]) -> None:
    """Write the events in `db`'s transaction, as its last writes (see the module docstring)."""
    if not events:
        return
    if db.get_bind().dialect.name == "postgresql":
        await db.execute(select(func.pg_advisory_xact_lock(EVENT_ORDER_LOCK)))
    rows = [
        {
            "type": event.type,
            "at": event.at,
            "email": event.email,
            "actor_kind": event.actor.kind,
            "actor_id": event.actor.id,
            "request_id": event.request_id,
            "data": json.dumps(event.data, separators=(",", ":"), sort_keys=True),
        }
        for event in events
    ]
    await db.execute(insert(EVENTS), rows)


async def events_after(
    *,
    db: AsyncSession,
    after: int = 0,
    limit: int,
    types: Sequence[str] = (),
    email: str | None = None,
) -> list[EventRow]:
    """Up to `limit` events with an id above `after`, oldest first; of these `types` (a type, or
    a prefix ending in "."), of this `email`, when given."""
    statement = select(EventRow).where(col(EventRow.id) > after)
    if types:
        statement = statement.where(_of_types(types))
    if email is not None:
        statement = statement.where(col(EventRow.email) == email)
    statement = statement.order_by(col(EventRow.id)).limit(limit)
    return list((await db.scalars(statement)).all())


def _of_types(types: Sequence[str]) -> Any:
    exact = [name for name in types if not name.endswith(".")]
    prefixes = [name for name in types if name.endswith(".")]
    conditions: list[Any] = [col(EventRow.type).in_(exact)] if exact else []
    conditions += [col(EventRow.type).startswith(prefix) for prefix in prefixes]
    return or_(*conditions)


async def newest_event_id(*, db: AsyncSession) -> int:
    """The id of the newest event, 0 if there is none."""
    return int(await db.scalar(select(func.coalesce(func.max(col(EventRow.id)), 0))) or 0)


async def purge_events(
    *, db: AsyncSession, before: datetime, keep_after: int | None, webhooks: Sequence[str]
) -> int:
    """Delete events older than `before`, but never one a configured webhook (of `webhooks`)
    still owes: pending in its deliveries, or above `keep_after` (the lowest of their cursors:
    not yet handed to every one's deliveries). A webhook no longer configured holds nothing
    back. Returns how many went."""
    pending = exists().where(
        col(WebhookDelivery.event_id) == col(EventRow.id),
        col(WebhookDelivery.status) == "pending",
        col(WebhookDelivery.webhook).in_(webhooks),
    )
    statement = delete(EventRow).where(col(EventRow.at) < before, ~pending)
    if keep_after is not None:
        statement = statement.where(col(EventRow.id) <= keep_after)
    result = await db.execute(statement)
    return int(result.rowcount)  # type: ignore[attr-defined]
