"""Passkeys: adding one while signed in, signing in with one, and managing one's own."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from starlette.convertors import StringConvertor, register_url_convertor

from api.auth.passkey_errors import CounterNotIncreased
from api.auth.passkeys import Passkeys
from api.auth.providers.config import RESERVED_NAME as PASSKEY
from api.auth.transports import BearerToken, Transport
from api.services import Services
from api.store.passkey_tables import PasskeyRow
from api.store.tables import UserPublic
from api.web.deps import (
    JSON_ONLY,
    PRIVATE,
    SESSION_SECURITY,
    Authenticated,
    ClientAddressDep,
    PasskeysDep,
    ServicesDep,
    SessionCookieDep,
    UserAgentDep,
)
from api.web.problems import problem_responses
from api.web.schemas import PasskeyAuthentication, PasskeyPublic, PasskeyRegistration, PasskeyRename


class PasskeyIdConvertor(StringConvertor):
    """A path segment, but none of the ceremonies' own: so that /auth/passkeys/registration
    is never taken for a passkey, for any method (and a 405's Allow names only its own)."""

    regex = "(?!(?:registration|authentication|token)$)[^/]+"


register_url_convertor("passkey_id", PasskeyIdConvertor())
router = APIRouter(prefix="/auth/passkeys", tags=["passkeys"])
OPTIONS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"schema": {"type": "object"}}}}
}
SIGN_IN_ERRORS = problem_responses(400, 401, 403, 404, 413, 415, 422, 429, 503)
PasskeyId = Annotated[str, Path(max_length=64)]


def options_response(options: str) -> Response:
    # A challenge is good for one ceremony: no cache may keep it.
    headers = {"Cache-Control": "no-store"}
    return Response(options, media_type="application/json", headers=headers)


def public(row: PasskeyRow) -> PasskeyPublic:
    transports = [value for value in row.transports.split(",") if value]
    return PasskeyPublic(**row.model_dump(exclude={"transports"}), transports=transports)


@router.post(
    "/registration/options",
    summary="Options to add a passkey",
    response_class=Response,
    dependencies=JSON_ONLY,
    responses={**OPTIONS, **problem_responses(401, 403, 404, 415)},
    openapi_extra=SESSION_SECURITY,
)
async def registration_options(authentication: Authenticated, passkeys: PasskeysDep) -> Response:
    """WebAuthn creation options for a new passkey of the signed-in user's (verified email)."""
    return options_response(await passkeys.registration_options(authentication.user))


@router.post(
    "/registration",
    summary="Add a passkey",
    status_code=201,
    dependencies=[*JSON_ONLY, *PRIVATE],
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
    openapi_extra=SESSION_SECURITY,
)
async def register(
    body: PasskeyRegistration, authentication: Authenticated, passkeys: PasskeysDep
) -> PasskeyPublic:
    """Check the authenticator's answer to the creation options and keep its passkey."""
    row = await passkeys.register(authentication.user, body.credential, name=body.name)
    return public(row)


@router.post(
    "/authentication/options",
    summary="Options to sign in with a passkey",
    response_class=Response,
    dependencies=JSON_ONLY,
    responses={**OPTIONS, **problem_responses(404, 415, 429, 503)},
)
async def authentication_options(passkeys: PasskeysDep, address: ClientAddressDep) -> Response:
    """WebAuthn request options for signing in with any passkey of this site's."""
    return options_response(await passkeys.authentication_options(address=address))


@router.post(
    "/authentication",
    summary="Sign in with a passkey",
    dependencies=JSON_ONLY,
    response_model=UserPublic,
    responses=SIGN_IN_ERRORS,
)
async def authenticate(
    body: PasskeyAuthentication,
    passkeys: PasskeysDep,
    services: ServicesDep,
    address: ClientAddressDep,
    user_agent: UserAgentDep,
    session_cookie: SessionCookieDep,
) -> Response:
    """Check the authenticator's answer and start a cookie session, as /auth/login does."""
    return await sign_in_with_passkey(
        services,
        passkeys,
        body.credential,
        transport=services.transports.cookie,
        address=address,
        user_agent=user_agent,
        replacing=session_cookie,
    )


@router.post(
    "/token",
    summary="Get a bearer token for a passkey",
    dependencies=JSON_ONLY,
    response_model=BearerToken,
    responses=SIGN_IN_ERRORS,
)
async def token(
    body: PasskeyAuthentication,
    passkeys: PasskeysDep,
    services: ServicesDep,
    address: ClientAddressDep,
    user_agent: UserAgentDep,
) -> Response:
    """Check the authenticator's answer and start a session carried by a bearer token."""
    return await sign_in_with_passkey(
        services,
        passkeys,
        body.credential,
        transport=services.transports.bearer,
        address=address,
        user_agent=user_agent,
    )


@router.get(
    "",
    summary="My passkeys",
    dependencies=PRIVATE,
    responses=problem_responses(401, 404),
    openapi_extra=SESSION_SECURITY,
)
async def passkeys_of_mine(
    authentication: Authenticated, passkeys: PasskeysDep
) -> list[PasskeyPublic]:
    """The signed-in user's passkeys, oldest first."""
    return [public(row) for row in await passkeys.of_user(authentication.user.email)]


@router.patch(
    "/{passkey_id:passkey_id}",
    summary="Rename a passkey",
    dependencies=[*JSON_ONLY, *PRIVATE],
    responses=problem_responses(400, 401, 404, 413, 415, 422),
    openapi_extra=SESSION_SECURITY,
)
async def rename(
    passkey_id: PasskeyId,
    body: PasskeyRename,
    authentication: Authenticated,
    passkeys: PasskeysDep,
) -> PasskeyPublic:
    """Give one of the signed-in user's passkeys a new name."""
    return public(await passkeys.rename(authentication.user.email, passkey_id, body.name))


@router.delete(
    "/{passkey_id:passkey_id}",
    summary="Remove a passkey",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 404),
    openapi_extra=SESSION_SECURITY,
)
async def remove(
    passkey_id: PasskeyId, authentication: Authenticated, passkeys: PasskeysDep
) -> Response:
    """Remove one of the signed-in user's passkeys: it signs no one in any more."""
    await passkeys.remove(authentication.user.email, passkey_id)
    return Response(status_code=204)


async def sign_in_with_passkey(
    services: Services,
    passkeys: Passkeys,
    credential: dict[str, Any],
    *,
    transport: Transport,
    address: str,
    user_agent: str | None,
    replacing: str | None = None,
) -> Response:
    """Sign in as whom the passkey's answer proves, as /auth/login (or /auth/token) does."""
    try:
        signed_in = await services.auth.sign_in(
            provider=PASSKEY,
            verify=lambda: passkeys.verify(credential),
            transport=transport,
            address=address,
            user_agent=user_agent,
            replacing=replacing,
        )
    except CounterNotIncreased as refused:
        passkeys.report_clone(refused)
        raise
    return transport.login_response(
        user=signed_in.user, token=signed_in.token, max_age=signed_in.max_age
    )
