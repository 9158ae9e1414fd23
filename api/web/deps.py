"""Every dependency the routes use, as an `Annotated` alias.

Each starts from `get_services`, but for the session check, which reads the services of the app
itself (`services_of`) rather than through a sub-dependency, which would cost more than the
check. A test replaces a collaborator with `app.dependency_overrides` (say `get_provider`), or
all of them by handing `create_app` its own `Services`. All dependencies are `async def`:
FastAPI runs plain `def` ones in a thread pool.
"""

from typing import Annotated, Any

from fastapi import Depends, Path, Request, Response
from fastapi.exceptions import RequestValidationError

from api.auth.email_codes import EmailCodes
from api.auth.emails import InvalidEmail, normalise_email
from api.auth.events import Actor
from api.auth.passkeys import Passkeys
from api.auth.policy import NotAllowed
from api.auth.providers.base import Provider
from api.auth.service import Authentication
from api.config import Settings
from api.services import Services, get_services, services_of
from api.store.tables import User
from api.web.client_address import client_address
from api.web.front import Answer, Asked
from api.web.middleware.csrf import require_json_body, require_own_form
from api.web.problems import NotAuthenticated, ProblemError, problem_response
from api.web.problems.table import DOMAIN_PROBLEMS
from api.web.schemas import MAX_EMAIL_INPUT_LENGTH, LoginRequest

ServicesDep = Annotated[Services, Depends(get_services)]


async def no_store(response: Response) -> None:
    """A user's own data: no cache on the way may keep it."""
    response.headers["Cache-Control"] = "no-store"


# Routes answering with a signed-in user's data.
PRIVATE = [Depends(no_store)]
# State-changing routes that take a body refuse bodies that are not JSON (see csrf.py).
JSON_ONLY = [Depends(require_json_body)]
# Signet's own HTML forms instead: only from a page that says it is this site's (see csrf.py).
OWN_FORM = [Depends(require_own_form)]
# OpenAPI: routes that need a session say that either scheme will do (see openapi.py); routes
# that merely read one when present (logout, starting a flow) say nothing, so /docs puts its
# lock only where a session is needed.
SESSION_SECURITY: dict[str, Any] = {"security": [{"SessionCookie": []}, {"BearerToken": []}]}


async def get_app_settings(services: ServicesDep) -> Settings:
    """The settings the services were built from."""
    return services.settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


async def get_provider(body: LoginRequest, services: ServicesDep) -> Provider:
    """The provider that verifies the posted assertion: the one named, or the only one."""
    return services.providers.for_assertion(body.provider)


ProviderDep = Annotated[Provider, Depends(get_provider)]


class NoEmailSignIn(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            404,
            slug="no-email-sign-in",
            title="Not Found",
            detail="Signing in by email is not offered here (SIGNET_PROVIDERS has no email).",
        )


async def get_email_codes(services: ServicesDep) -> EmailCodes:
    """Codes and links sent by email; 404 where the email provider is not offered."""
    if services.email_codes is None:
        raise NoEmailSignIn
    return services.email_codes


EmailCodesDep = Annotated[EmailCodes, Depends(get_email_codes)]


class NoPasskeys(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            404,
            slug="no-passkeys",
            title="Not Found",
            detail="Passkeys are not offered here (SIGNET_PASSKEYS=false).",
        )


async def get_passkeys(services: ServicesDep) -> Passkeys:
    """Passkeys; 404 where they are turned off."""
    if services.passkeys is None:
        raise NoPasskeys
    return services.passkeys


PasskeysDep = Annotated[Passkeys, Depends(get_passkeys)]


async def get_client_address(request: Request, services: ServicesDep) -> str:
    """Who is asking: the peer, or what trusted proxies forwarded."""
    return client_address(request, trusted_proxies=services.settings.trusted_proxies)


ClientAddressDep = Annotated[str, Depends(get_client_address)]


async def get_user_agent(request: Request) -> str | None:
    """The browser asking, as it names itself (kept with the session it starts)."""
    return request.headers.get("user-agent")


UserAgentDep = Annotated[str | None, Depends(get_user_agent)]


async def get_session_cookie(request: Request) -> str | None:
    """The session cookie the browser sent, unchecked, if it sent one."""
    transports = services_of(request.app).transports
    _, token = transports.presented(authorization=None, cookie_header=request.headers.get("cookie"))
    return token


SessionCookieDep = Annotated[str | None, Depends(get_session_cookie)]


async def authenticate(
    services: Services, asked: Asked, *, admitted_only: bool = True
) -> Authentication | None:
    """The session the request's headers carry, or None; `NotAllowed` if the policy no longer
    lets its user in (unless `admitted_only` is false)."""
    transport, token = services.transports.presented(
        authorization=asked.authorization, cookie_header=asked.cookie
    )
    return await services.auth.check(transport=transport, token=token, admitted_only=admitted_only)


async def check_session(services: Services, asked: Asked) -> Authentication | None:
    """The session the request's headers carry, or None, counted as a session check."""
    authentication = await authenticate(services, asked)
    services.metrics.session_check(signed_in=authentication is not None)
    return authentication


async def get_authentication(request: Request) -> Authentication | None:
    """The request's session, or None: one the policy no longer lets in counts as none."""
    try:
        return await authenticate(services_of(request.app), Asked.of(request))
    except NotAllowed:
        return None


MaybeAuthenticated = Annotated[Authentication | None, Depends(get_authentication)]


async def get_session_to_end(request: Request) -> Authentication | None:
    """The request's session, or None, whatever the policy says: signing out always works."""
    return await authenticate(services_of(request.app), Asked.of(request), admitted_only=False)


SessionToEnd = Annotated[Authentication | None, Depends(get_session_to_end)]


async def require_authentication(request: Request) -> Authentication:
    """The request's session; 401 without one."""
    authentication = await check_session(services_of(request.app), Asked.of(request))
    if authentication is None:
        raise NotAuthenticated
    return authentication


Authenticated = Annotated[Authentication, Depends(require_authentication)]


async def get_current_user(authentication: Authenticated) -> User:
    """The signed-in user; 401 without a session. For applications built on Signet."""
    return authentication.user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def require_admin_key(
    services: ServicesDep, address: ClientAddressDep, request: Request
) -> Actor:
    """The admin key in `Authorization: Bearer`, as the actor of what the request changes;
    401 without a live one (a session cookie is never one: no CSRF to guard against)."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    presented = key.strip() if scheme.lower() == "bearer" else None
    return await services.admin_keys.authenticate(presented, address=address)


AdminActor = Annotated[Actor, Depends(require_admin_key)]
# OpenAPI: the admin API's one scheme (see openapi.py).
ADMIN_SECURITY: dict[str, Any] = {"security": [{"AdminKey": []}]}


async def get_user_email(
    email: Annotated[
        str,
        Path(
            max_length=MAX_EMAIL_INPUT_LENGTH,
            description="The user's email, percent-encoded (a `/` in it as `%2F`).",
        ),
    ],
) -> str:
    """The email an admin path names (routes take it as `{email:path}`: the server decodes %2F
    before routing), canonical; a 422 problem if it is not an email address."""
    try:
        return normalise_email(email)
    except InvalidEmail:
        issue = {"loc": ("path", "email"), "msg": "is not a valid email address"}
        raise RequestValidationError([{**issue, "type": "value_error"}]) from None


UserEmail = Annotated[str, Depends(get_user_email)]

# The front door's answers to a request without a live session, and with one the policy no
# longer lets in.
UNAUTHENTICATED = Answer.of(problem_response(NotAuthenticated().problem))
NOT_ALLOWED = Answer.of(problem_response(DOMAIN_PROBLEMS[NotAllowed][0]))


def refreshed_token_headers(authentication: Authentication) -> list[tuple[bytes, bytes]]:
    """The headers that send a session's re-issued token, if it was re-issued (it slides)."""
    refreshed = authentication.refreshed
    if refreshed is None:
        return []
    return authentication.transport.token_headers(token=refreshed.token, max_age=refreshed.max_age)
