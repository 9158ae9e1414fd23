"""/admin/v1: a user's live sessions, and ending one (wherever its tokens are)."""

from fastapi import APIRouter, Path, Response

from api.auth.events import ADMIN
from api.store.sessions import sessions_page
from api.store.users import get_user
from api.web.deps import ADMIN_SECURITY, JSON_ONLY, AdminActor, ServicesDep, UserEmail
from api.web.devices import device_name
from api.web.problems import problem_responses
from api.web.problems.types import NotFound
from api.web.routes.admin.paging import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    Page,
    page_of,
    stamp_of,
    stamped_key,
)
from api.web.routes.admin.schemas import AdminSession

router = APIRouter()


@router.get(
    "/users/{email:path}/sessions",
    summary="A user's sessions",
    responses=problem_responses(400, 401, 404, 422, 429),
    openapi_extra=ADMIN_SECURITY,
)
async def user_sessions(
    email: UserEmail, services: ServicesDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[AdminSession]:
    """The user's live sessions, newest first, with the address each signed in from."""
    before = stamp_of(cursor)
    async with services.db_sessions() as db:
        if await get_user(db=db, email=email) is None:
            raise NotFound("user")
        rows = await sessions_page(
            db=db, email=email, now=services.clock(), before=before, limit=limit + 1
        )
    sessions = [
        AdminSession(
            id=row.id,
            created_at=row.created_at,
            last_seen=row.last_seen or row.created_at,
            expires_at=row.expires_at,
            user_agent=row.user_agent,
            device=device_name(row.user_agent),
            address=row.address,
            kind=row.kind,
            provider=row.provider,
        )
        for row in rows
    ]
    return page_of(sessions, limit=limit, key=lambda row: stamped_key(row.created_at, row.id))


@router.delete(
    "/sessions/{session_id}",
    summary="End a session",
    status_code=204,
    response_class=Response,
    dependencies=JSON_ONLY,
    responses=problem_responses(401, 404, 415, 422, 429),
    openapi_extra=ADMIN_SECURITY,
)
async def end_session(
    services: ServicesDep,
    actor: AdminActor,
    session_id: str = Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="A session's id."),
) -> Response:
    """End one session, wherever its token is (every worker and host refuses it at once)."""
    ended = await services.sessions.revoke_session(
        session_id, at=services.clock(), actor=actor, reason=ADMIN
    )
    if not ended:
        raise NotFound("session")
    return Response(status_code=204)
