"""The signed-in user's identities: which provider accounts sign in as them."""

from fastapi import APIRouter, Response

from api.web.deps import JSON_ONLY, PRIVATE, SESSION_SECURITY, Authenticated, ServicesDep
from api.web.problems import problem_responses
from api.web.schemas import IdentityPublic

router = APIRouter(prefix="/auth", tags=["identities"])


@router.get(
    "/identities",
    summary="My identities",
    dependencies=PRIVATE,
    responses=problem_responses(401),
    openapi_extra=SESSION_SECURITY,
)
async def identities(authentication: Authenticated, services: ServicesDep) -> list[IdentityPublic]:
    """The provider accounts that sign in as the signed-in user, oldest first."""
    rows = await services.accounts.identities(authentication.user.email)
    return [IdentityPublic.model_validate(row, from_attributes=True) for row in rows]


@router.delete(
    "/identities/{identity_id}",
    summary="Remove an identity",
    status_code=204,
    response_class=Response,
    dependencies=JSON_ONLY,
    responses=problem_responses(401, 403, 404, 409, 415),
    openapi_extra=SESSION_SECURITY,
)
async def unlink(
    identity_id: str, authentication: Authenticated, services: ServicesDep
) -> Response:
    """Stop an identity from signing in as the user; never the last one."""
    await services.accounts.unlink(authentication.user.email, identity_id, now=services.clock())
    return Response(status_code=204)
