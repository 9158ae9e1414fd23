"""The signed-in user's sessions: where they are signed in, and ending one."""

from fastapi import APIRouter, Response

from api.web.deps import JSON_ONLY, PRIVATE, SESSION_SECURITY, Authenticated, ServicesDep
from api.web.devices import device_name
from api.web.problems import problem_responses
from api.web.schemas import SessionPublic

router = APIRouter(prefix="/auth", tags=["sessions"])


@router.get(
    "/sessions",
    summary="My sessions",
    dependencies=PRIVATE,
    responses=problem_responses(401),
    openapi_extra=SESSION_SECURITY,
)
async def sessions(authentication: Authenticated, services: ServicesDep) -> list[SessionPublic]:
    """The signed-in user's live sessions, newest first."""
    rows = await services.sessions.of_user(authentication.user.email, now=services.clock())
    current = authentication.claims.session_id
    return [
        SessionPublic(
            id=row.id,
            created_at=row.created_at,
            last_seen=row.last_seen or row.created_at,
            user_agent=row.user_agent,
            device=device_name(row.user_agent),
            address=row.address,
            current=row.id == current,
            kind=row.kind,
        )
        for row in rows
    ]


@router.delete(
    "/sessions/{session_id}",
    summary="End a session",
    status_code=204,
    response_class=Response,
    dependencies=JSON_ONLY,
    responses=problem_responses(401, 403, 404, 415),
    openapi_extra=SESSION_SECURITY,
)
async def end_session(
    session_id: str, authentication: Authenticated, services: ServicesDep
) -> Response:
    """End one of the signed-in user's sessions, wherever its token is."""
    await services.sessions.revoke_own(authentication.user.email, session_id, at=services.clock())
    return Response(status_code=204)
