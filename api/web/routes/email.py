"""Signing in with an email address alone: ask for a code, then give the code back, or open the
link from the same message and press its button."""

from collections.abc import Awaitable, Callable
from html import escape
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from api.auth.accounts import AccountDisabled
from api.auth.email_codes import PROVIDER, CodeRejected, Redeemed
from api.auth.flows import checked_return_to, with_error
from api.auth.policy import NotAllowed
from api.auth.providers.base import Identity
from api.auth.sign_in_failures import failure_reason
from api.auth.transports import BearerToken, Transport
from api.services import Services
from api.store.tables import UserPublic
from api.web.deps import (
    JSON_ONLY,
    OWN_FORM,
    ClientAddressDep,
    EmailCodesDep,
    ServicesDep,
    SessionCookieDep,
    UserAgentDep,
)
from api.web.openapi import ERRORS_AS_PAGES, form_body
from api.web.pages import error_page, form_fields, page, wants_html
from api.web.problems import problem_responses
from api.web.schemas import EmailCodeRequest, EmailSent, EmailStartRequest

router = APIRouter(prefix="/auth/email", tags=["email"])
CODE_ERRORS = problem_responses(400, 401, 403, 404, 413, 415, 422, 429, 503)
MAX_LINK_TOKEN_LENGTH = 128


def start_again(base: str) -> str:
    return f'<p><a href="{escape(base)}/auth/sign-in">Sign in again</a></p>'


@router.post(
    "/start",
    summary="Email me a sign-in code",
    status_code=202,
    dependencies=JSON_ONLY,
    responses=problem_responses(400, 403, 404, 413, 415, 422, 429, 503),
)
async def start(
    body: EmailStartRequest,
    codes: EmailCodesDep,
    address: ClientAddressDep,
    services: ServicesDep,
) -> EmailSent:
    """Send a code and a sign-in link to the address; 202 once the mail server accepted it."""
    allowed = services.settings.return_to_origins
    return_to = checked_return_to(body.return_to, allowed_origins=allowed)
    await codes.start(email=body.email, return_to=return_to, address=address)
    return EmailSent(email=body.email, expires_in=codes.ttl)


@router.post(
    "/verify",
    summary="Sign in with an emailed code",
    dependencies=JSON_ONLY,
    response_model=UserPublic,
    responses=CODE_ERRORS,
)
async def verify_code(
    body: EmailCodeRequest,
    codes: EmailCodesDep,
    address: ClientAddressDep,
    user_agent: UserAgentDep,
    services: ServicesDep,
    session_cookie: SessionCookieDep,
) -> Response:
    """Check the code and start a cookie session, as /auth/login does."""
    return await sign_in_with(
        services,
        lambda: codes.redeem_code(email=body.email, code=body.code),
        transport=services.transports.cookie,
        address=address,
        user_agent=user_agent,
        replacing=session_cookie,
    )


@router.post(
    "/token",
    summary="Get a bearer token for an emailed code",
    dependencies=JSON_ONLY,
    response_model=BearerToken,
    responses=CODE_ERRORS,
)
async def token(
    body: EmailCodeRequest,
    codes: EmailCodesDep,
    address: ClientAddressDep,
    user_agent: UserAgentDep,
    services: ServicesDep,
) -> Response:
    """Check the code and start a session carried by a bearer token, as /auth/token does."""
    return await sign_in_with(
        services,
        lambda: codes.redeem_code(email=body.email, code=body.code),
        transport=services.transports.bearer,
        address=address,
        user_agent=user_agent,
    )


@router.get(
    "/verify",
    summary="The page a sign-in link opens",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}}, **problem_responses(401, 404)},
    openapi_extra={ERRORS_AS_PAGES: True},
)
async def link_page(
    request: Request,
    codes: EmailCodesDep,
    services: ServicesDep,
    token: Annotated[str, Query()] = "",
) -> Response:
    """Name the email the link signs in, with a button that does; opening it uses up nothing."""
    base, site = services.settings.public_path, services.settings.mail_site_name
    try:
        # However mangled the link (cut short, run on), a person gets a page saying so.
        email = await codes.email_of_link(token[:MAX_LINK_TOKEN_LENGTH])
    except CodeRejected as rejected:
        if wants_html(request.headers.get("accept")):
            return error_page(rejected, site=site, next_step=start_again(base))
        raise
    form = (
        f"<p>Sign in as <strong>{escape(email)}</strong>?</p>"
        f'<form method="post" action="{escape(base)}/auth/email/link">'
        f'<input type="hidden" name="token" value="{escape(token)}">'
        '<button type="submit">Sign in</button></form>'
        "<p>If you did not ask to sign in, close this page: nothing happens until you press "
        "the button.</p>"
    )
    return page("Sign in", form, site=site)


@router.post(
    "/link",
    summary="Sign in with an emailed link",
    status_code=303,
    response_class=RedirectResponse,
    dependencies=OWN_FORM,
    responses=problem_responses(401, 403, 404, 413, 429, 503),
    openapi_extra=form_body("token", errors_as_pages=True),
)
async def link(
    request: Request,
    codes: EmailCodesDep,
    address: ClientAddressDep,
    user_agent: UserAgentDep,
    services: ServicesDep,
    session_cookie: SessionCookieDep,
) -> Response:
    """Use up the link's token, set the session cookie and return to where sign-in began."""
    token = (await form_fields(request)).get("token", "")[:MAX_LINK_TOKEN_LENGTH]
    try:
        return await sign_in_with(
            services,
            lambda: codes.redeem_link(token),
            transport=services.transports.cookie,
            address=address,
            user_agent=user_agent,
            replacing=session_cookie,
            redirect=True,
        )
    except Exception as error:
        if wants_html(request.headers.get("accept")):
            settings = services.settings
            next_step = start_again(settings.public_path)
            return error_page(error, site=settings.mail_site_name, next_step=next_step)
        raise


async def sign_in_with(
    services: Services,
    redeem: Callable[[], Awaitable[Redeemed]],
    *,
    transport: Transport,
    address: str,
    user_agent: str | None,
    replacing: str | None = None,
    redirect: bool = False,
) -> Response:
    """Sign in as whom a code or link `redeem`s; with `redirect`, answer 303 to its return_to
    with the session cookie, else as /auth/login (or /auth/token) does."""
    return_to: list[str] = []

    async def verify() -> Identity:
        redeemed = await redeem()
        # Checked again: the allow-list may have changed since the code was sent.
        allowed = services.settings.return_to_origins
        return_to.append(checked_return_to(redeemed.return_to, allowed_origins=allowed))
        return redeemed.identity

    try:
        signed_in = await services.auth.sign_in(
            provider=PROVIDER,
            verify=verify,
            transport=transport,
            address=address,
            user_agent=user_agent,
            replacing=replacing,
        )
    except (NotAllowed, AccountDisabled) as refused:
        if not redirect:
            raise
        # As a redirect flow answers it: back where sign-in began, saying why.
        reason = failure_reason(refused)
        return RedirectResponse(with_error(return_to[0], reason), status_code=303)
    if not redirect:
        return transport.login_response(
            user=signed_in.user, token=signed_in.token, max_age=signed_in.max_age
        )
    response = RedirectResponse(return_to[0], status_code=303)
    services.transports.cookie.set_token(response, token=signed_in.token, max_age=signed_in.max_age)
    response.headers["Cache-Control"] = "no-store"
    return response
