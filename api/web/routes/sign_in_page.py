"""The sign-in page for people who arrive without a SPA, no JavaScript: a button per provider,
and where the email provider is offered, a form to ask for a code and one to enter it."""

from html import escape
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api.auth.emails import InvalidEmail, normalise_email
from api.auth.flows import InvalidReturnTo, checked_return_to
from api.mail.sign_in_message import duration
from api.web.deps import (
    OWN_FORM,
    ClientAddressDep,
    EmailCodesDep,
    ServicesDep,
    SessionCookieDep,
    UserAgentDep,
)
from api.web.openapi import form_body
from api.web.pages import error_page, form_fields, page
from api.web.problems import problem_responses
from api.web.routes.email import sign_in_with

router = APIRouter(prefix="/auth", tags=["providers"])
NOT_AN_ADDRESS = '<p class="error" role="alert">That is not an email address.</p>'


@router.get(
    "/sign-in",
    summary="The sign-in page",
    response_class=HTMLResponse,
    responses=problem_responses(400, 422),
)
async def sign_in_page(
    services: ServicesDep, return_to: str | None = Query(default=None, max_length=4096)
) -> Response:
    """A button per provider and the email form; straight to a redirect provider that is alone."""
    target = checked_return_to(return_to, allowed_origins=services.settings.return_to_origins)
    query = urlencode({"return_to": target})
    starts = [
        (config.display_name, f"{start}?{query}")
        for config in services.providers.configs
        if (start := services.providers.start_url(config.name)) is not None
    ]
    offers_email = services.email_codes is not None
    if len(starts) == 1 and not offers_email:
        return RedirectResponse(starts[0][1], status_code=302)
    body = ""
    if starts:
        items = "".join(
            f'<li><a class="button" href="{escape(url)}">Sign in with {escape(name)}</a></li>'
            for name, url in starts
        )
        body = f"<ul>{items}</ul>"
    if offers_email:
        body += _email_form(services.settings.public_path, target)
    if not body:
        body = "<p>No provider here signs in without the application's own page.</p>"
    return page("Sign in", body)


@router.post(
    "/sign-in/email",
    summary="Email me a sign-in code (the sign-in page's form)",
    response_class=HTMLResponse,
    dependencies=OWN_FORM,
    responses=problem_responses(400, 403, 404, 413, 422, 429, 503),
    openapi_extra=form_body("email", errors_as_pages=True),
)
async def email_form(
    request: Request, codes: EmailCodesDep, address: ClientAddressDep, services: ServicesDep
) -> Response:
    """Send a code to the address, and show the form to enter it."""
    fields = await form_fields(request)
    base, return_to = services.settings.public_path, fields.get("return_to") or "/"
    try:
        email = normalise_email(fields.get("email", ""))
    except InvalidEmail:
        return page("Sign in", NOT_AN_ADDRESS + _email_form(base, return_to), status=422)
    try:
        allowed = services.settings.return_to_origins
        target = checked_return_to(return_to, allowed_origins=allowed)
        await codes.start(email=email, return_to=target, address=address)
    except InvalidReturnTo as refused:
        return error_page(refused, next_step=_email_form(base, "/"))
    except Exception as error:
        return error_page(error, next_step=_email_form(base, return_to))
    sent = (
        f"<p>We sent a code to <strong>{escape(email)}</strong>. It works for "
        f"{duration(codes.ttl)}; so does the link in the same message.</p>"
    )
    return page("Check your email", sent + _code_form(base, email))


@router.post(
    "/sign-in/email/code",
    summary="Sign in with an emailed code (the sign-in page's form)",
    status_code=303,
    response_class=RedirectResponse,
    dependencies=OWN_FORM,
    responses=problem_responses(401, 403, 404, 413, 422, 429, 503),
    openapi_extra=form_body("email", "code", errors_as_pages=True),
)
async def code_form(
    request: Request,
    codes: EmailCodesDep,
    address: ClientAddressDep,
    user_agent: UserAgentDep,
    services: ServicesDep,
    session_cookie: SessionCookieDep,
) -> Response:
    """Check the code, set the session cookie and return to where sign-in began."""
    fields = await form_fields(request)
    base = services.settings.public_path
    try:
        email = normalise_email(fields.get("email", ""))
    except InvalidEmail:
        return page("Sign in", NOT_AN_ADDRESS + _email_form(base, "/"), status=422)
    code = fields.get("code", "")
    try:
        return await sign_in_with(
            services,
            lambda: codes.redeem_code(email=email, code=code),
            transport=services.transports.cookie,
            address=address,
            user_agent=user_agent,
            replacing=session_cookie,
            redirect=True,
        )
    except Exception as error:
        new_code = f'<p><a href="{escape(base)}/auth/sign-in">Ask for a new code</a></p>'
        again = _code_form(base, email) + new_code
        return error_page(error, next_step=again)


def _email_form(base: str, return_to: str) -> str:
    return (
        f'<form method="post" action="{escape(base)}/auth/sign-in/email">'
        '<label for="email">Email address</label>'
        '<input id="email" name="email" type="email" autocomplete="email" required>'
        f'<input type="hidden" name="return_to" value="{escape(return_to)}">'
        '<button type="submit">Email me a code</button></form>'
    )


def _code_form(base: str, email: str) -> str:
    return (
        f'<form method="post" action="{escape(base)}/auth/sign-in/email/code">'
        f'<input type="hidden" name="email" value="{escape(email)}">'
        '<label for="code">Code</label>'
        '<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" '
        'pattern="[0-9 \\-]*" required autofocus>'
        '<button type="submit">Sign in</button></form>'
    )
