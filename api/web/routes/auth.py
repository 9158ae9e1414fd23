"""Sign in (cookie or bearer token), the current user, and signing out."""

from fastapi import APIRouter, Request, Response

from api.auth.policy import NotAllowed
from api.auth.transports import BearerToken, Transport
from api.services import Services
from api.store.tables import UserPublic
from api.web.deps import (
    JSON_ONLY,
    NOT_ALLOWED,
    SESSION_SECURITY,
    UNAUTHENTICATED,
    Authenticated,
    ClientAddressDep,
    ProviderDep,
    ServicesDep,
    SessionCookieDep,
    SessionToEnd,
    UserAgentDep,
    check_session,
    refreshed_token_headers,
)
from api.web.front import Answer, Asked
from api.web.problems import problem_responses
from api.web.schemas import LoginRequest

router = APIRouter(prefix="/auth", tags=["auth"])
SIGN_IN_ERRORS = problem_responses(400, 401, 403, 409, 413, 415, 422, 429, 503)


@router.post(
    "/login",
    summary="Sign in with an assertion",
    dependencies=JSON_ONLY,
    response_model=UserPublic,
    responses=SIGN_IN_ERRORS,
)
async def login(
    body: LoginRequest,
    provider: ProviderDep,
    address: ClientAddressDep,
    user_agent: UserAgentDep,
    services: ServicesDep,
    session_cookie: SessionCookieDep,
) -> Response:
    """Verify an identity assertion and start a cookie session for the email it proves."""
    cookie = services.transports.cookie
    return await _sign_in(
        body, provider, address, user_agent, services, cookie, replacing=session_cookie
    )


@router.post(
    "/token",
    summary="Get a bearer token for an assertion",
    dependencies=JSON_ONLY,
    response_model=BearerToken,
    responses=SIGN_IN_ERRORS,
)
async def token(
    body: LoginRequest,
    provider: ProviderDep,
    address: ClientAddressDep,
    user_agent: UserAgentDep,
    services: ServicesDep,
) -> Response:
    """Verify an identity assertion and start a session carried by a bearer token, not a cookie."""
    bearer = services.transports.bearer
    return await _sign_in(body, provider, address, user_agent, services, bearer)


async def _sign_in(
    body: LoginRequest,
    provider: ProviderDep,
    address: str,
    user_agent: str | None,
    services: ServicesDep,
    transport: Transport,
    *,
    replacing: str | None = None,
) -> Response:
    signed_in = await services.auth.sign_in(
        provider=provider.name,
        verify=lambda: provider.verify(body.assertion),
        transport=transport,
        address=address,
        user_agent=user_agent,
        replacing=replacing,
    )
    return transport.login_response(
        user=signed_in.user, token=signed_in.token, max_age=signed_in.max_age
    )


async def me_answer(services: Services, asked: Asked) -> Answer:
    """The signed-in user's JSON, or 401 (403 if the policy no longer lets them in); a sliding
    session's new cookie goes with it."""
    try:
        authentication = await check_session(services, asked)
    except NotAllowed:
        return NOT_ALLOWED
    if authentication is None:
        return UNAUTHENTICATED
    headers = [
        (b"content-type", b"application/json"),
        (b"cache-control", b"no-store"),
        *refreshed_token_headers(authentication),
    ]
    # The user's JSON was rendered when the session was checked, so it is sent as it is.
    return Answer(200, headers, authentication.user_json)


@router.get(
    "/me",
    summary="Who is signed in",
    response_model=UserPublic,
    responses=problem_responses(401, 503),
    openapi_extra=SESSION_SECURITY,
)
async def me(request: Request, services: ServicesDep) -> Response:
    """The user signed in with this session cookie or bearer token."""
    # The front door answers every GET /auth/me (see front.py); this route is what it must
    # answer byte for byte, and what the OpenAPI document describes.
    return (await me_answer(services, Asked.of(request))).response()


@router.post(
    "/logout",
    summary="Sign out",
    status_code=204,
    response_class=Response,
    dependencies=JSON_ONLY,
    responses=problem_responses(403, 415),
)
async def logout(authentication: SessionToEnd, services: ServicesDep) -> Response:
    """End this session on the server and clear its cookie; works with or without one."""
    if authentication is not None:
        await services.auth.sign_out(authentication)
    # Whatever carried the session, a browser may hold a cookie too: clear it.
    return services.transports.cookie.logout_response()


@router.post(
    "/logout-everywhere",
    summary="Sign out everywhere",
    status_code=204,
    response_class=Response,
    dependencies=JSON_ONLY,
    responses=problem_responses(401, 403, 415),
    openapi_extra=SESSION_SECURITY,
)
async def logout_everywhere(authentication: Authenticated, services: ServicesDep) -> Response:
    """End every session of the signed-in user, this one included."""
    await services.auth.sign_out_everywhere(authentication.user.email)
    return services.transports.cookie.logout_response()
