"""/admin/v1/invitations: invite an email (with groups), list invitations, revoke one."""

from datetime import timedelta

from fastapi import APIRouter, Path, Response

from api.auth.invitation_changes import invite, revoke
from api.store.invitations import invitation_state, invitations_page, invited_groups
from api.store.tables import Invitation
from api.web.deps import ADMIN_SECURITY, JSON_ONLY, AdminActor, ServicesDep
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
from api.web.routes.admin.schemas import InvitationCreate, InvitationPublic

router = APIRouter()


def _public(invitation: Invitation, services: ServicesDep) -> InvitationPublic:
    return InvitationPublic(
        id=invitation.id,
        email=invitation.email,
        groups=invited_groups(invitation),
        state=invitation_state(invitation, services.clock()),
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
        revoked_at=invitation.revoked_at,
        spent_at=invitation.spent_at,
    )


@router.post(
    "/invitations",
    summary="Invite an email",
    status_code=201,
    dependencies=JSON_ONLY,
    responses=problem_responses(400, 401, 409, 413, 415, 422, 429),
    openapi_extra=ADMIN_SECURITY,
)
async def create(
    body: InvitationCreate, services: ServicesDep, actor: AdminActor
) -> InvitationPublic:
    """Let an email sign in for the first time, with groups; 409 if invited or a user already."""
    invitation = await invite(
        services.db_sessions,
        email=body.email,
        groups=body.groups,
        lifetime=timedelta(seconds=body.expires_in),
        at=services.clock(),
        actor=actor,
    )
    return _public(invitation, services)


@router.get(
    "/invitations",
    summary="List invitations",
    responses=problem_responses(400, 401, 422, 429),
    openapi_extra=ADMIN_SECURITY,
)
async def list_invitations(
    services: ServicesDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[InvitationPublic]:
    """Every invitation, oldest first, with its state: live, expired, revoked or spent."""
    after = stamp_of(cursor)
    async with services.db_sessions() as db:
        rows = await invitations_page(db=db, after=after, limit=limit + 1)
    return page_of(
        [_public(row, services) for row in rows],
        limit=limit,
        key=lambda invitation: stamped_key(invitation.created_at, invitation.id),
    )


@router.delete(
    "/invitations/{invitation_id}",
    summary="Revoke an invitation",
    status_code=204,
    response_class=Response,
    dependencies=JSON_ONLY,
    responses=problem_responses(401, 404, 409, 415, 422, 429),
    openapi_extra=ADMIN_SECURITY,
)
async def revoke_invitation(
    services: ServicesDep,
    actor: AdminActor,
    invitation_id: str = Path(pattern=r"^[0-9a-z]{1,32}$", description="An invitation's id."),
) -> Response:
    """Revoke a live invitation; 409 if it was spent, revoked or has expired."""
    if await revoke(services.db_sessions, invitation_id, at=services.clock(), actor=actor) is None:
        raise NotFound("invitation")
    return Response(status_code=204)
