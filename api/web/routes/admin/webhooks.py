"""/admin/v1/webhooks: each webhook's state and backlog, its deliveries, and a retry."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from api.store.operator_tables import WebhookDelivery
from api.store.webhook_deliveries import (
    backlog,
    list_deliveries,
    retry_delivery,
    webhook_states,
)
from api.web.deps import ADMIN_SECURITY, ServicesDep
from api.web.problems import ProblemError, problem_responses
from api.web.routes.admin.paging import DEFAULT_LIMIT, Cursor, Limit, Page, key_of, page_of
from api.webhooks.config import WebhookConfig

router = APIRouter()

WebhookName = Annotated[str, Path(max_length=32, description="A name in SIGNET_WEBHOOKS.")]
# An event id fits 64 bits: a larger one is no event's (and PostgreSQL would refuse it).
EventId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The event's id (webhook-id).")]
Status = Annotated[
    Literal["pending", "delivered", "failed"] | None,
    Query(description="Only deliveries of this status."),
]


class AdminWebhook(BaseModel):
    name: str
    # The origin alone: a receiver's path may be a secret of its own.
    url: str
    events: list[str]
    backlog: int
    disabled: bool
    last_error: str | None


class AdminDelivery(BaseModel):
    event_id: int
    status: str
    attempts: int
    last_attempt_at: datetime | None
    last_error: str | None


class UnknownWebhook(ProblemError):
    def __init__(self, name: str) -> None:
        super().__init__(
            404,
            slug="not-found",
            title="Not Found",
            detail="There is no webhook of that name (SIGNET_WEBHOOKS names them).",
        )


class UnknownDelivery(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            404,
            slug="not-found",
            title="Not Found",
            detail="This webhook has no delivery of that event.",
        )


def webhook_config(services: ServicesDep, name: str) -> WebhookConfig:
    for config in services.settings.webhook_configs:
        if config.name == name:
            return config
    raise UnknownWebhook(name)


def delivery_public(row: WebhookDelivery) -> AdminDelivery:
    return AdminDelivery(
        event_id=row.event_id,
        status=row.status,
        attempts=row.attempts,
        last_attempt_at=row.last_attempt_at,
        last_error=row.last_error,
    )


@router.get(
    "/webhooks",
    summary="Webhooks",
    responses=problem_responses(400, 401, 422, 429),
    openapi_extra=ADMIN_SECURITY,
)
async def webhooks(
    services: ServicesDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[AdminWebhook]:
    """The configured webhooks by name: origin, events, backlog, whether a 410 disabled it."""
    after = key_of(cursor, str)
    configs = sorted(services.settings.webhook_configs, key=lambda config: config.name)
    async with services.db_sessions() as db:
        states = await webhook_states(db=db)
        pending = await backlog(db=db)
    items = []
    for config in configs:
        if after is not None and config.name <= str(after):
            continue
        state = states.get(config.name)
        items.append(
            AdminWebhook(
                name=config.name,
                url=config.origin,
                events=list(config.events),
                backlog=pending.get(config.name, 0),
                disabled=state is not None and state.disabled_at is not None,
                last_error=state.last_error if state is not None else None,
            )
        )
    return page_of(items[: limit + 1], limit=limit, key=lambda webhook: webhook.name)


@router.get(
    "/webhooks/{name}/deliveries",
    summary="A webhook's deliveries",
    responses=problem_responses(400, 401, 404, 422, 429),
    openapi_extra=ADMIN_SECURITY,
)
async def deliveries(
    name: WebhookName,
    services: ServicesDep,
    status: Status = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[AdminDelivery]:
    """The webhook's deliveries in event order, of one status if asked."""
    webhook_config(services, name)
    after = key_of(cursor, int)
    async with services.db_sessions() as db:
        rows = await list_deliveries(
            db=db,
            webhook=name,
            status=status,
            after=int(after) if after is not None else None,
            limit=limit + 1,
        )
    return page_of(
        [delivery_public(row) for row in rows], limit=limit, key=lambda item: item.event_id
    )


@router.post(
    "/webhooks/{name}/deliveries/{event_id}/retry",
    status_code=202,
    summary="Retry a delivery",
    responses=problem_responses(401, 404, 422, 429),
    openapi_extra=ADMIN_SECURITY,
)
async def retry(name: WebhookName, event_id: EventId, services: ServicesDep) -> AdminDelivery:
    """Make the delivery due now, whatever its status; the delivery loop sends it."""
    webhook_config(services, name)
    async with services.db_sessions() as db:
        if not await retry_delivery(db=db, webhook=name, event_id=event_id, now=services.clock()):
            raise UnknownDelivery
        await db.commit()
        rows = await list_deliveries(db=db, webhook=name, status=None, after=event_id - 1, limit=1)
    return delivery_public(rows[0])
