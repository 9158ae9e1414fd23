"""/admin/v1/users: list, create, show, change (disable, groups) and delete users."""

from typing import Annotated

from fastapi import APIRouter, Query, Response
from starlette.convertors import StringConvertor, register_url_convertor

from api.auth.group_changes import change_groups
from api.auth.groups import GROUP_NAME
from api.auth.provisioning import create_user
from api.services import Services
from api.store.identities import identities_of
from api.store.user_listing import ListedUser, UserFilter, users_page, with_details
from api.store.users import get_user
from api.web.deps import ADMIN_SECURITY, JSON_ONLY, AdminActor, ServicesDep, UserEmail
from api.web.problems import problem_responses
from api.web.problems.types import NotFound
from api.web.routes.admin.paging import DEFAULT_LIMIT, Cursor, Limit, Page, key_of, page_of
from api.web.routes.admin.schemas import (
    AdminUser,
    AdminUserDetail,
    UserChange,
    UserCreate,
)
from api.web.schemas import MAX_EMAIL_INPUT_LENGTH, IdentityPublic


class UserEmailConvertor(StringConvertor):
    """Any path rest (an email's `/` arrives decoded) but one ending in /sessions, which no
    email's domain can: so that a user's sessions are never taken for a user, for any method
    (and a 405's Allow names only the sessions' methods)."""

    regex = ".+(?<!/sessions)"


register_url_convertor("user_email", UserEmailConvertor())
router = APIRouter()
# Filters that could never match are refused: no control character (PostgreSQL takes no NUL).
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
PROVIDER_NAME = r"^[A-Za-z0-9._:-]{1,32}$"


def _public(user: ListedUser) -> AdminUser:
    return AdminUser.model_validate(user, from_attributes=True)


async def _detail(services: Services, email: str) -> AdminUserDetail:
    """The user with their identities; 404 if there is none."""
    async with services.db_sessions() as db:
        user = await get_user(db=db, email=email)
        if user is None:
            raise NotFound("user")
        (listed,) = await with_details(db=db, users=[user], now=services.clock())
        identities = await identities_of(db=db, email=email)
    return AdminUserDetail(
        **_public(listed).model_dump(),
        identities=[IdentityPublic.model_validate(row, from_attributes=True) for row in identities],
    )


@router.get(
    "/users",
    summary="List users",
    responses=problem_responses(400, 401, 422, 429),
    openapi_extra=ADMIN_SECURITY,
)
async def list_users(
    services: ServicesDep,
    email_prefix: Annotated[
        str | None,
        Query(
            max_length=MAX_EMAIL_INPUT_LENGTH,
            pattern=PRINTABLE,
            description="Emails that start so.",
        ),
    ] = None,
    group: Annotated[
        str | None, Query(pattern=f"^{GROUP_NAME.pattern}$", description="Users in this group.")
    ] = None,
    provider: Annotated[
        str | None,
        Query(pattern=PROVIDER_NAME, description="Users with an identity of this provider."),
    ] = None,
    disabled: Annotated[bool | None, Query(description="Disabled users, or the others.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[AdminUser]:
    """Users in email order, a page at a time, with their groups, providers and live sessions."""
    after = key_of(cursor, str)
    assert after is None or isinstance(after, str)
    which = UserFilter(email_prefix=email_prefix, group=group, provider=provider, disabled=disabled)
    async with services.db_sessions() as db:
        users = await users_page(
            db=db, which=which, after=after, limit=limit + 1, now=services.clock()
        )
    return page_of([_public(user) for user in users], limit=limit, key=lambda user: user.email)


@router.post(
    "/users",
    summary="Create a user",
    status_code=201,
    dependencies=JSON_ONLY,
    responses=problem_responses(400, 401, 409, 413, 415, 422, 429),
    openapi_extra=ADMIN_SECURITY,
)
async def create(body: UserCreate, services: ServicesDep, actor: AdminActor) -> AdminUserDetail:
    """Create a user before their first sign-in (no identity yet), in groups by hand."""
    await create_user(
        services.db_sessions, body.email, groups=body.groups, at=services.clock(), actor=actor
    )
    return await _detail(services, body.email)


# `{email:user_email}`: an address with a `/` in it arrives as %2F, which the server decodes
# before routing; …/{email}/sessions is the sessions router's (api/web/routes/admin/sessions.py).
@router.get(
    "/users/{email:user_email}",
    summary="Show a user",
    responses=problem_responses(401, 404, 422, 429),
    openapi_extra=ADMIN_SECURITY,
)
async def show(email: UserEmail, services: ServicesDep) -> AdminUserDetail:
    """The user, with their identities as /auth/identities shows them."""
    return await _detail(services, email)


@router.patch(
    "/users/{email:user_email}",
    summary="Disable, enable or regroup a user",
    dependencies=JSON_ONLY,
    responses=problem_responses(400, 401, 404, 413, 415, 422, 429),
    openapi_extra=ADMIN_SECURITY,
)
async def change(
    email: UserEmail, body: UserChange, services: ServicesDep, actor: AdminActor
) -> AdminUserDetail:
    """Disable (sessions end everywhere, sign-ins refused) or enable a user; set managed groups."""
    async with services.db_sessions() as db:
        if await get_user(db=db, email=email) is None:
            raise NotFound("user")
    at = services.clock()
    if body.disabled is not None:
        # False if it was so already: nothing changed, no event, and that is no error.
        await services.sessions.set_disabled(email, disabled=body.disabled, at=at, actor=actor)
    if body.groups is not None:
        changed = await change_groups(
            services.sessions, email, at=at, actor=actor, exactly=body.groups
        )
        if changed is None:  # deleted meanwhile
            raise NotFound("user")
    return await _detail(services, email)


@router.delete(
    "/users/{email:user_email}",
    summary="Delete a user",
    status_code=204,
    response_class=Response,
    dependencies=JSON_ONLY,
    responses=problem_responses(401, 404, 415, 422, 429),
    openapi_extra=ADMIN_SECURITY,
)
async def delete(email: UserEmail, services: ServicesDep, actor: AdminActor) -> Response:
    """Delete the user with their identities, groups and sessions (refused everywhere at once)."""
    if not await services.sessions.delete_user(email, at=services.clock(), actor=actor):
        raise NotFound("user")
    return Response(status_code=204)
