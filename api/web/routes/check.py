"""GET /auth/check, for gateways (nginx auth_request, Traefik ForwardAuth, Caddy forward_auth):
204 with who is signed in, in headers, or 401.

The hottest path in the product: `SignetApp`'s front door answers every GET of it before
FastAPI's stack, with an Origin or without (see front.py). The route here is what the front door
must answer byte for byte (tests/test_front_door.py), and what the OpenAPI document describes.
"""

from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from api.auth.policy import NotAllowed
from api.services import Services
from api.web.deps import (
    NOT_ALLOWED,
    SESSION_SECURITY,
    UNAUTHENTICATED,
    ServicesDep,
    check_session,
    refreshed_token_headers,
)
from api.web.front import Answer, Asked
from api.web.problems import problem_responses

PATH = "/auth/check"
router = APIRouter(tags=["gateways"])
# Percent-encoded as UTF-8 when not ASCII; these stay as they are.
_EMAIL_SAFE = "@.!#$&'*+-/=?^_`{|}~"


def email_header(email: str) -> str:
    """The email as an HTTP header value: as it is when ASCII, else percent-encoded UTF-8."""
    return email if email.isascii() else quote(email, safe=_EMAIL_SAFE)


async def check_answer(services: Services, asked: Asked) -> Answer:
    """204 with who is signed in, or 401; a sliding session's new cookie goes with it, for the
    proxy to pass on."""
    try:
        authentication = await check_session(services, asked)
    except NotAllowed:
        return NOT_ALLOWED
    if authentication is None:
        return UNAUTHENTICATED
    user = authentication.user
    headers = [
        (b"x-signet-email", email_header(user.email).encode()),
        (b"x-signet-email-verified", b"true" if user.email_verified else b"false"),
        (b"x-signet-provider", (authentication.provider or "").encode()),
        (b"cache-control", b"no-store"),
        *refreshed_token_headers(authentication),
    ]
    return Answer(204, headers)


@router.get(
    PATH,
    summary="Is this request signed in (forward auth)",
    status_code=204,
    response_class=Response,
    responses={
        204: {
            "description": "Signed in: X-Signet-Email (percent-encoded UTF-8 when not ASCII), "
            "X-Signet-Email-Verified (true or false) and X-Signet-Provider say who."
        },
        **problem_responses(401, 503),
    },
    openapi_extra=SESSION_SECURITY,
)
async def check(request: Request, services: ServicesDep) -> Response:
    """For a gateway's subrequest: 204 with who is signed in, in headers, or 401."""
    return (await check_answer(services, Asked.of(request))).response()
