"""/admin/v1/events: the audit log, oldest first, each event exactly as webhooks receive it."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError

from api.auth.emails import InvalidEmail, normalise_email
from api.auth.events import TYPE_FILTERS
from api.store.events import EventPublic, event_public, events_after
from api.web.deps import ADMIN_SECURITY, ServicesDep
from api.web.problems import problem_responses
from api.web.routes.admin.paging import (
    DEFAULT_LIMIT,
    MAX_INT_KEY,
    Cursor,
    Limit,
    Page,
    key_of,
    page_of,
)
from api.web.schemas import MAX_EMAIL_INPUT_LENGTH

router = APIRouter()
# What ?type= takes: a type, or the prefix of some ("user.").


def _invalid(name: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("query", name), "msg": message, "type": "value_error"}])


@router.get(
    "/events",
    summary="The audit log",
    responses=problem_responses(400, 401, 422, 429),
    openapi_extra=ADMIN_SECURITY,
)
async def events(
    services: ServicesDep,
    type: Annotated[
        list[str] | None,
        Query(
            max_length=len(TYPE_FILTERS),
            description="Events of this type, or of every type with this prefix (`user.`); "
            "repeat for several.",
        ),
    ] = None,
    email: Annotated[
        str | None, Query(max_length=MAX_EMAIL_INPUT_LENGTH, description="Events of this user.")
    ] = None,
    after: Annotated[
        int,
        Query(ge=0, le=MAX_INT_KEY, description="Only events with a greater id (an event id)."),
    ] = 0,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[EventPublic]:
    """Events oldest first, by id: commit order, so a later page misses none committed since."""
    types = type or []
    if any(name not in TYPE_FILTERS for name in types):
        raise _invalid("type", "not an event type, or a prefix of some such as 'user.'")
    if email is not None:
        try:
            email = normalise_email(email)
        except InvalidEmail:
            raise _invalid("email", "is not a valid email address") from None
    since = key_of(cursor, int)
    assert since is None or isinstance(since, int)
    async with services.db_sessions() as db:
        rows = await events_after(
            db=db, after=max(after, since or 0), limit=limit + 1, types=types, email=email
        )
    return page_of([event_public(row) for row in rows], limit=limit, key=lambda event: event.id)
