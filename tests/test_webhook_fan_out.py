"""Fan-out races: a 410 that disables a webhook while a worker is handing it new events."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

import api.store.webhook_deliveries
from api.store.operator_tables import EventRow, WebhookDelivery, WebhookState
from api.store.webhook_deliveries import fan_out


async def test_a_webhook_disabled_after_its_state_was_read_gets_no_new_deliveries(
    db_session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    db_session.add(WebhookState(name="hook", last_event_id=0, settings_digest="d"))
    row = {"type": "user.created", "at": now, "actor_kind": "cli", "data": "{}"}
    await db_session.execute(insert(EventRow), [row, row])
    await db_session.commit()

    async def stale(*, db: AsyncSession) -> dict[str, WebhookState]:
        """The state as the worker read it, just before the 410 was recorded."""
        return {"hook": WebhookState(name="hook", last_event_id=0, settings_digest="d")}

    # The 410 lands between the worker's read of the state and its move of the cursor.
    state = await db_session.get(WebhookState, "hook")
    assert state is not None
    state.disabled_at = now
    await db_session.commit()
    monkeypatch.setattr(api.store.webhook_deliveries, "webhook_states", stale)

    added = await fan_out(
        db=db_session, name="hook", digest="d", wants=lambda _: True, now=now, limit=10
    )
    await db_session.commit()

    assert added == 0
    assert (await db_session.scalars(select(col(WebhookDelivery.event_id)))).all() == []
