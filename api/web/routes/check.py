"""GET /auth/check, for gateways (nginx auth_request, Traefik ForwardAuth, Caddy forward_auth):
204 with who is signed in, in headers, or 401. The hottest path: a raw route, with no body to
parse, no JSON to render and no dependency to resolve; its collaborators come from Services."""

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from api.services import services_of
from api.web.problems import NotAuthenticated, problem_response

_UNAUTHENTICATED = NotAuthenticated().problem
# Percent-encoded as UTF-8 when not ASCII; these stay as they are.
_EMAIL_SAFE = "@.!#$&'*+-/=?^_`{|}~"


def email_header(email: str) -> str:
    """The email as an HTTP header value: as it is when ASCII, else percent-encoded UTF-8."""
    return email if email.isascii() else quote(email, safe=_EMAIL_SAFE)


async def check(request: Request) -> Response:
    services = services_of(request.app)
    transport, token = services.transports.presented(request)
    authentication = await services.auth.check(transport=transport, token=token)
    services.metrics.session_check(signed_in=authentication is not None)
    if authentication is None:
        return problem_response(_UNAUTHENTICATED)
    user = authentication.user
    response = Response(
        status_code=204,
        headers={
            "X-Signet-Email": email_header(user.email),
            "X-Signet-Email-Verified": "true" if user.email_verified else "false",
            "X-Signet-Provider": authentication.provider or "",
            "Cache-Control": "no-store",
        },
    )
    refreshed = authentication.refreshed
    if refreshed is not None:
        transport.set_token(response, token=refreshed.token, max_age=refreshed.max_age)
    return response
