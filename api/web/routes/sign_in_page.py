"""The sign-in page for people who arrive without a SPA, working without JavaScript: a button per
provider, and where the email provider is offered, a form to ask for a code and one to enter it;
what a provider's failed flow means, in words; who is signed in, and a button to sign out. With
passkeys on, one inline script adds "Sign in with a passkey" and the email field's autofill."""

from html import escape
from typing import Annotated
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
    MaybeAuthenticated,
    ServicesDep,
    SessionCookieDep,
    SessionToEnd,
    UserAgentDep,
)
from api.web.openapi import form_body
from api.web.pages import error_page, form_fields, page, script_policy
from api.web.problems import problem_responses
from api.web.routes.email import sign_in_with
from api.web.sign_in_html import (
    NOT_AN_ADDRESS,
    PASSKEY_SCRIPT,
    code_form,
    email_form,
    passkey_button,
    provider_buttons,
    sign_in_error,
    signed_in,
)

router = APIRouter(prefix="/auth", tags=["providers"])
NOT_STORED = {"Cache-Control": "no-store"}
Param = Annotated[str | None, Query(max_length=4096)]


@router.get(
    "/sign-in",
    summary="The sign-in page",
    response_class=HTMLResponse,
    responses={
        302: {"description": "Straight to the one provider, when it is the only way in."},
        303: {"description": "Signed in already: on to `return_to`."},
        **problem_responses(400, 422),
    },
)
async def sign_in_page(
    services: ServicesDep,
    authentication: MaybeAuthenticated,
    return_to: Param = None,
    signet_error: Param = None,
) -> Response:
    """Buttons, the email form and why a flow failed; if signed in, on to return_to (or who)."""
    # Without a return_to, flows come back here to say who is signed in.
    settings = services.settings
    base, site = settings.public_path, settings.mail_site_name
    own = f"{base}/auth/sign-in"
    target = (
        checked_return_to(return_to, allowed_origins=settings.return_to_origins)
        if return_to
        else own
    )
    alert = sign_in_error(signet_error)
    if authentication is not None:
        if target != own and not alert:
            return RedirectResponse(target, status_code=303, headers=NOT_STORED)
        body = alert + signed_in(
            base,
            authentication.user.email,
            continue_to=None if target == own else target,
            return_to=return_to or "",
        )
        return page("Signed in", body, site=site, heading=f"Signed in to {site}")
    # A provider's flow comes back here, whether it worked or not: failures are then said here,
    # and a success goes on to the target.
    back = own if target == own else f"{own}?{urlencode({'return_to': target})}"
    starts = [
        (config.display_name, f"{start}?{urlencode({'return_to': back})}")
        for config in services.providers.configs
        if (start := services.providers.start_url(config.name)) is not None
    ]
    offers_email, passkeys = services.email_codes is not None, settings.passkeys
    # Straight to the one provider only when there is no other way in: a passkey is one.
    if len(starts) == 1 and not offers_email and not passkeys and not alert:
        return RedirectResponse(starts[0][1], status_code=302, headers=NOT_STORED)
    body = alert + (passkey_button(target) if passkeys else "") + provider_buttons(starts)
    if offers_email:
        body += email_form(base, target, after_buttons=bool(starts), passkeys=passkeys)
    if not starts and not offers_email:
        body += "<p>No provider here signs in without the application's own page.</p>"
    headers = script_policy(PASSKEY_SCRIPT) if passkeys else None
    return page("Sign in", body, site=site, heading=f"Sign in to {site}", headers=headers)


@router.post(
    "/sign-in/logout",
    summary="Sign out (the sign-in page's form)",
    status_code=303,
    response_class=RedirectResponse,
    dependencies=OWN_FORM,
    responses=problem_responses(403, 413),
    openapi_extra=form_body(errors_as_pages=True),
)
async def logout_form(
    request: Request, authentication: SessionToEnd, services: ServicesDep
) -> Response:
    """End this session, clear its cookie and show the sign-in page again."""
    if authentication is not None:
        await services.auth.sign_out(authentication)
    return_to = (await form_fields(request)).get("return_to")
    again = f"{services.settings.public_path}/auth/sign-in"
    if return_to:
        try:
            allowed = services.settings.return_to_origins
            target = checked_return_to(return_to, allowed_origins=allowed)
            again += f"?{urlencode({'return_to': target})}"
        except InvalidReturnTo:
            pass  # signed out all the same; the page then returns to itself
    response = RedirectResponse(again, status_code=303, headers=NOT_STORED)
    cleared = services.transports.cookie.logout_response()
    response.raw_headers.extend(h for h in cleared.raw_headers if h[0] == b"set-cookie")
    return response


@router.post(
    "/sign-in/email",
    summary="Email me a sign-in code (the sign-in page's form)",
    response_class=HTMLResponse,
    dependencies=OWN_FORM,
    responses=problem_responses(400, 403, 404, 413, 422, 429, 503),
    openapi_extra=form_body("email", errors_as_pages=True),
)
async def email_form_post(
    request: Request, codes: EmailCodesDep, address: ClientAddressDep, services: ServicesDep
) -> Response:
    """Send a code to the address, and show the form to enter it."""
    fields = await form_fields(request)
    settings = services.settings
    base, site = settings.public_path, settings.mail_site_name
    own = f"{base}/auth/sign-in"
    return_to = fields.get("return_to") or own
    try:
        email = normalise_email(fields.get("email", ""))
    except InvalidEmail:
        again = NOT_AN_ADDRESS + email_form(base, return_to)
        return page("Sign in", again, site=site, heading=f"Sign in to {site}", status=422)
    try:
        target = checked_return_to(return_to, allowed_origins=settings.return_to_origins)
        await codes.start(email=email, return_to=target, address=address)
    except InvalidReturnTo as refused:
        return error_page(refused, site=site, next_step=email_form(base, own))
    except Exception as error:
        return error_page(error, site=site, next_step=email_form(base, return_to))
    sent = (
        f"<p>We sent a code to <strong>{escape(email)}</strong>. It works for "
        f"{duration(codes.ttl)}; so does the link in the same message.</p>"
    )
    return page("Check your email", sent + code_form(base, email), site=site)


@router.post(
    "/sign-in/email/code",
    summary="Sign in with an emailed code (the sign-in page's form)",
    status_code=303,
    response_class=RedirectResponse,
    dependencies=OWN_FORM,
    responses=problem_responses(401, 403, 404, 413, 422, 429, 503),
    openapi_extra=form_body("email", "code", errors_as_pages=True),
)
async def code_form_post(
    request: Request,
    codes: EmailCodesDep,
    address: ClientAddressDep,
    user_agent: UserAgentDep,
    services: ServicesDep,
    session_cookie: SessionCookieDep,
) -> Response:
    """Check the code, set the session cookie and return to where sign-in began."""
    fields = await form_fields(request)
    base, site = services.settings.public_path, services.settings.mail_site_name
    try:
        email = normalise_email(fields.get("email", ""))
    except InvalidEmail:
        again = NOT_AN_ADDRESS + email_form(base, f"{base}/auth/sign-in")
        return page("Sign in", again, site=site, heading=f"Sign in to {site}", status=422)
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
        again = code_form(base, email) + new_code
        return error_page(error, site=site, next_step=again)
