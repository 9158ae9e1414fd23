"""The providers a person may sign in with, and the redirect flow through them."""

import hmac
import re
from collections.abc import Awaitable
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from api.auth.flows import Flow, FlowRefused, checked_return_to, seal, unseal, with_error
from api.auth.providers.base import Identity, VerifierUnavailable
from api.auth.sign_in_failures import FAILED, failure_reason
from api.config import Settings
from api.web.deps import (
    ClientAddressDep,
    MaybeAuthenticated,
    ServicesDep,
    SessionCookieDep,
)
from api.web.problems import NotAuthenticated, problem_responses
from api.web.schemas import ProviderListing

router = APIRouter(prefix="/auth", tags=["providers"])
FLOW_COOKIE_SUFFIX = "_flow"
# An RFC 6749 error code, as much of one as is safe to pass on.
_ERROR_CODE = re.compile(r"^[a-z_]{1,64}$")
Param = Annotated[str | None, Query(max_length=4096)]


@router.get("/providers", summary="The providers offered")
async def providers(services: ServicesDep) -> list[ProviderListing]:
    """Every provider a person may sign in with, in display order."""
    return [
        ProviderListing(
            name=config.name,
            kind=config.kind,
            display_name=config.display_name,
            start_url=services.providers.start_url(config.name),
        )
        for config in services.providers.configs
    ]


@router.get(
    "/providers/{name}/start",
    summary="Start signing in with a provider",
    response_class=RedirectResponse,
    status_code=302,
    responses={
        303: {"description": "The provider cannot be reached: back, with signet_error."},
        **problem_responses(400, 401, 404, 422),
    },
)
async def start(
    name: str,
    services: ServicesDep,
    authentication: MaybeAuthenticated,
    return_to: Param = None,
    link: bool = False,
) -> Response:
    """Send the browser to the provider to sign in, or with `link=true` to add that account."""
    provider = services.providers.redirect_flow(name)
    settings = services.settings
    if link and authentication is None:
        raise NotAuthenticated
    flow = Flow.start(
        name,
        checked_return_to(return_to, allowed_origins=settings.return_to_origins),
        link_to=authentication.user.email if link and authentication else None,
    )
    try:
        url = await provider.authorization_url(
            flow, redirect_uri=services.providers.callback_url(name)
        )
    except VerifierUnavailable:  # its discovery document cannot be had: say so where it began
        return RedirectResponse(with_error(flow.return_to, "provider_unavailable"), 303)
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(
        settings.cookie_name + FLOW_COOKIE_SUFFIX,
        seal(flow, key=settings.secret_key, now=services.clock()),
        max_age=600,
        path=_callback_path(name),
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",  # comes back on the provider's top-level redirect
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get(
    "/providers/{name}/callback",
    summary="Finish signing in with a provider",
    response_class=RedirectResponse,
    status_code=303,
    responses=problem_responses(400, 404, 422),
)
async def callback(
    name: str,
    request: Request,
    services: ServicesDep,
    address: ClientAddressDep,
    authentication: MaybeAuthenticated,
    session_cookie: SessionCookieDep,
    code: Param = None,
    state: Param = None,
    error: Param = None,
) -> Response:
    """Check the provider's answer against the flow, sign in, and return to where it began."""
    provider = services.providers.redirect_flow(name)
    settings = services.settings
    cookie_name = settings.cookie_name + FLOW_COOKIE_SUFFIX
    flow = unseal(request.cookies.get(cookie_name), key=settings.secret_key, now=services.clock())
    if flow is None or flow.provider != name:
        raise FlowRefused("no flow cookie for this provider")
    if state is None or not hmac.compare_digest(state.encode(), flow.state.encode()):
        raise FlowRefused("state is not the flow's")
    if flow.link_to is not None and (
        authentication is None or authentication.user.email != flow.link_to
    ):
        raise FlowRefused("linking, but not signed in as the user who started it")
    await services.auth.end_flow(flow)
    cookie = services.transports.cookie
    try:
        if error is not None:
            code_word = error if _ERROR_CODE.fullmatch(error) else "invalid_request"
            return _back(flow, settings, error=code_word)
        if code is None:
            return _back(flow, settings, error="invalid_response")

        def verify() -> Awaitable[Identity]:
            return provider.complete(
                flow, code=code, redirect_uri=services.providers.callback_url(name)
            )

        if flow.link_to is not None:
            await services.auth.link(email=flow.link_to, provider=name, verify=verify)
            return _back(flow, settings)  # the session stays as it is
        signed_in = await services.auth.sign_in(
            provider=name,
            verify=verify,
            transport=cookie,
            address=address,
            user_agent=request.headers.get("user-agent"),
            replacing=session_cookie,
        )
    except FAILED as failure:
        return _back(flow, settings, error=failure_reason(failure))
    response = _back(flow, settings)
    cookie.set_token(response, token=signed_in.token, max_age=signed_in.max_age)
    return response


def _back(flow: Flow, settings: Settings, *, error: str | None = None) -> Response:
    """303 to where the flow began (with `signet_error`), the flow cookie cleared."""
    target = flow.return_to if error is None else with_error(flow.return_to, error)
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(
        settings.cookie_name + FLOW_COOKIE_SUFFIX,
        path=_callback_path(flow.provider),
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _callback_path(name: str) -> str:
    return f"/auth/providers/{name}/callback"
