"""Webhook deliveries: handed out from the audit log per webhook (its cursor), claimed with a
lease that outlives no crash, recorded as delivered, retried or failed. The caller commits.

A claim on PostgreSQL is `SELECT … FOR UPDATE SKIP LOCKED` and then a lease; on SQLite, whose
one writer at a time makes it atomic, an `UPDATE … RETURNING` of rows without a live lease. A
worker that dies mid-delivery leaves its lease to lapse, and another takes the delivery over.
"""

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from api.store.events import newest_event_id
from api.store.operator_tables import EventRow, WebhookDelivery, WebhookState
from api.store.users import dialect_insert

DELIVERIES = SQLModel.metadata.tables[WebhookDelivery.__tablename__]
STATES = SQLModel.metadata.tables[WebhookState.__tablename__]
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
MAX_ERROR_LENGTH = 500
Claim = tuple[str, int]


async def webhook_states(*, db: AsyncSession) -> dict[str, WebhookState]:
    """Every webhook's state, by name."""
    rows = (await db.scalars(select(WebhookState).execution_options(populate_existing=True))).all()
    return {row.name: row for row in rows}


async def fan_out(
    *,
    db: AsyncSession,
    name: str,
    digest: str,
    wants: Callable[[str], bool],
    now: datetime,
    limit: int,
) -> int:
    """Hand the events after the webhook's cursor that it `wants` to its deliveries, and move the
    cursor past the events read; how many deliveries were added. A webhook seen first starts at
    the newest event; a disabled one skips events until its settings (`digest`) change. Two
    workers at it at once: the one whose cursor update finds the cursor moved adds nothing."""
    state = (await webhook_states(db=db)).get(name)
    if state is None:
        newest = await newest_event_id(db=db)
        insert = dialect_insert(db.get_bind().dialect.name, STATES)
        values = {"name": name, "last_event_id": newest, "settings_digest": digest}
        await db.execute(insert.values(**values).on_conflict_do_nothing())
        return 0
    cursor = state.last_event_id
    if state.settings_digest != digest:
        # New settings: a receiver that said 410 Gone may be another one now, and starts at the
        # newest event, as a new webhook does.
        changes: dict[str, object] = {"settings_digest": digest}
        reenabled = state.disabled_at is not None
        if reenabled:
            changes |= {"disabled_at": None, "last_error": None}
            changes["last_event_id"] = max(cursor, await newest_event_id(db=db))
        await db.execute(
            update(WebhookState)
            .where(col(WebhookState.name) == name, col(WebhookState.last_event_id) == cursor)
            .values(**changes)
        )
        if reenabled:
            return 0
    if state.disabled_at is not None:
        await _move_cursor(db, name, cursor, await newest_event_id(db=db))
        return 0
    statement = (
        select(col(EventRow.id), col(EventRow.type))
        .where(col(EventRow.id) > cursor)
        .order_by(col(EventRow.id))
        .limit(limit)
    )
    events = (await db.execute(statement)).all()
    if not events:
        return 0
    if not await _move_cursor(db, name, cursor, events[-1][0] or 0, enabled=True):
        return 0
    rows = [
        {"webhook": name, "event_id": event_id, "status": PENDING, "next_attempt_at": now}
        for event_id, event_type in events
        if wants(event_type)
    ]
    if rows:
        insert = dialect_insert(db.get_bind().dialect.name, DELIVERIES)
        await db.execute(insert.values(attempts=0).on_conflict_do_nothing(), rows)
    return len(rows)


async def _move_cursor(
    db: AsyncSession, name: str, cursor: int, to: int, *, enabled: bool = False
) -> bool:
    """Move the cursor from `cursor` to `to`; False if another worker moved it first (or, with
    `enabled`, a 410 disabled the webhook since its state was read: its deliveries were just
    failed, and new ones must not follow them)."""
    if to <= cursor:
        return False
    where = [col(WebhookState.name) == name, col(WebhookState.last_event_id) == cursor]
    if enabled:
        where.append(col(WebhookState.disabled_at).is_(None))
    result = await db.execute(update(WebhookState).where(*where).values(last_event_id=to))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _due(webhooks: Sequence[str], now: datetime) -> list[object]:
    lease = col(WebhookDelivery.lease_until)
    return [
        col(WebhookDelivery.status) == PENDING,
        col(WebhookDelivery.webhook).in_(webhooks),
        col(WebhookDelivery.next_attempt_at) <= now,
        lease.is_(None) | (lease <= now),
    ]


def _keys(claims: Sequence[Claim]) -> object:
    return tuple_(col(WebhookDelivery.webhook), col(WebhookDelivery.event_id)).in_(claims)


async def claim_due(
    *,
    db: AsyncSession,
    webhooks: Sequence[str],
    now: datetime,
    lease_until: datetime,
    limit: int,
) -> list[Claim]:
    """Lease up to `limit` due deliveries of `webhooks` (none another worker holds)."""
    if not webhooks or limit <= 0:
        return []
    due = (
        select(col(WebhookDelivery.webhook), col(WebhookDelivery.event_id))
        .where(*_due(webhooks, now))  # type: ignore[arg-type]
        .order_by(col(WebhookDelivery.next_attempt_at))
        .limit(limit)
    )
    if db.get_bind().dialect.name == "postgresql":
        claims = [
            (row[0], row[1]) for row in await db.execute(due.with_for_update(skip_locked=True))
        ]
        if claims:
            await db.execute(
                update(WebhookDelivery).where(_keys(claims)).values(lease_until=lease_until)  # type: ignore[arg-type]
            )
        return claims
    # SQLite: a look first, so that an idle round writes nothing (a write takes the one lock).
    if not (await db.execute(due.limit(1))).first():
        return []
    statement = (
        update(WebhookDelivery)
        .where(tuple_(col(WebhookDelivery.webhook), col(WebhookDelivery.event_id)).in_(due))
        .where(*_due(webhooks, now))  # type: ignore[arg-type]
        .values(lease_until=lease_until)
        .returning(col(WebhookDelivery.webhook), col(WebhookDelivery.event_id))
    )
    return [(row[0], row[1]) for row in await db.execute(statement)]


async def renew_leases(*, db: AsyncSession, claims: Sequence[Claim], lease_until: datetime) -> None:
    """Extend the leases of deliveries still in flight."""
    if claims:
        await db.execute(
            update(WebhookDelivery)
            .where(_keys(claims), col(WebhookDelivery.status) == PENDING)  # type: ignore[arg-type]
            .values(lease_until=lease_until)
        )


async def release(*, db: AsyncSession, claims: Sequence[Claim]) -> None:
    """Give claims up (a worker stopping): due again at once, for whichever worker is next."""
    if claims:
        await db.execute(
            update(WebhookDelivery)
            .where(_keys(claims), col(WebhookDelivery.status) == PENDING)  # type: ignore[arg-type]
            .values(lease_until=None)
        )


async def events_of(*, db: AsyncSession, ids: Sequence[int]) -> dict[int, EventRow]:
    rows = (await db.scalars(select(EventRow).where(col(EventRow.id).in_(ids)))).all()
    return {row.id: row for row in rows if row.id is not None}


async def attempts_of(*, db: AsyncSession, claim: Claim) -> int:
    """How many tries a delivery has had."""
    webhook, event_id = claim
    statement = select(col(WebhookDelivery.attempts)).where(
        col(WebhookDelivery.webhook) == webhook, col(WebhookDelivery.event_id) == event_id
    )
    return int(await db.scalar(statement) or 0)


async def record_attempt(
    *,
    db: AsyncSession,
    claim: Claim,
    now: datetime,
    error: str | None,
    next_attempt_at: datetime | None,
) -> None:
    """One attempt's outcome: delivered (no `error`), due again at `next_attempt_at`, or failed
    (an error and no next attempt)."""
    webhook, event_id = claim
    status = DELIVERED if error is None else PENDING if next_attempt_at is not None else FAILED
    await db.execute(
        update(WebhookDelivery)
        .where(col(WebhookDelivery.webhook) == webhook, col(WebhookDelivery.event_id) == event_id)
        .where(col(WebhookDelivery.status) == PENDING)
        .values(
            status=status,
            attempts=col(WebhookDelivery.attempts) + 1,
            last_attempt_at=now,
            last_error=error[:MAX_ERROR_LENGTH] if error else None,
            lease_until=None,
            **({"next_attempt_at": next_attempt_at} if next_attempt_at is not None else {}),
        )
    )
    state = update(WebhookState).where(col(WebhookState.name) == webhook)
    if error is None:
        state = state.where(col(WebhookState.last_error).is_not(None))
        state = state.where(col(WebhookState.disabled_at).is_(None))
        await db.execute(state.values(last_error=None))
    else:
        await db.execute(state.values(last_error=error[:MAX_ERROR_LENGTH]))


async def disable_webhook(*, db: AsyncSession, name: str, now: datetime, error: str) -> None:
    """A receiver said 410 Gone: no more deliveries until the settings change; those pending
    fail with `error`."""
    await db.execute(
        update(WebhookState)
        .where(col(WebhookState.name) == name)
        .values(disabled_at=now, last_error=error)
    )
    await db.execute(
        update(WebhookDelivery)
        .where(col(WebhookDelivery.webhook) == name, col(WebhookDelivery.status) == PENDING)
        .values(status=FAILED, last_error=error, lease_until=None)
    )


async def backlog(*, db: AsyncSession) -> dict[str, int]:
    """How many deliveries are pending, by webhook."""
    statement = (
        select(col(WebhookDelivery.webhook), func.count())
        .where(col(WebhookDelivery.status) == PENDING)
        .group_by(col(WebhookDelivery.webhook))
    )
    return {name: int(count) for name, count in await db.execute(statement)}


async def list_deliveries(
    *, db: AsyncSession, webhook: str, status: str | None, after: int | None, limit: int
) -> list[WebhookDelivery]:
    """Up to `limit` deliveries of `webhook` (of `status`, when given), in event order."""
    statement = select(WebhookDelivery).where(col(WebhookDelivery.webhook) == webhook)
    if status is not None:
        statement = statement.where(col(WebhookDelivery.status) == status)
    if after is not None:
        statement = statement.where(col(WebhookDelivery.event_id) > after)
    statement = statement.order_by(col(WebhookDelivery.event_id)).limit(limit)
    return list((await db.scalars(statement)).all())


async def retry_delivery(*, db: AsyncSession, webhook: str, event_id: int, now: datetime) -> bool:
    """Make a delivery due now, whatever its status (one in flight keeps its claim: it is not
    sent twice at once); False if there is none."""
    result = await db.execute(
        update(WebhookDelivery)
        .where(col(WebhookDelivery.webhook) == webhook, col(WebhookDelivery.event_id) == event_id)
        .values(status=PENDING, next_attempt_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def lowest_cursor(*, db: AsyncSession, webhooks: Sequence[str]) -> int | None:
    """The lowest cursor of `webhooks` (events above it may still be owed); None without any."""
    if not webhooks:
        return None
    statement = select(func.min(col(WebhookState.last_event_id))).where(
        col(WebhookState.name).in_(webhooks)
    )
    lowest = await db.scalar(statement)
    return None if lowest is None else int(lowest)
