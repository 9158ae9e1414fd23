"""GET /auth/check, for gateways (nginx auth_request, Traefik ForwardAuth, Caddy forward_auth):
204 with who is signed in, in headers, or 401.

The hottest path in the product, so it is answered before FastAPI's stack (routing, dependency
resolution, its middleware): `SignetApp` hands it straight to `GatewayCheck`, wrapped only in
the access log. Its collaborators come from Services, which tests replace through `create_app`.
"""

from urllib.parse import quote

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from api.services import services_of
from api.web.problems import (
    DATABASE_UNAVAILABLE,
    NotAuthenticated,
    database_unavailable_response,
    problem_response,
)

PATH = "/auth/check"
_UNAUTHENTICATED = NotAuthenticated().problem
# Percent-encoded as UTF-8 when not ASCII; these stay as they are.
_EMAIL_SAFE = "@.!#$&'*+-/=?^_`{|}~"


def email_header(email: str) -> str:
    """The email as an HTTP header value: as it is when ASCII, else percent-encoded UTF-8."""
    return email if email.isascii() else quote(email, safe=_EMAIL_SAFE)


class GatewayCheck:
    """The check as a bare ASGI app for `app`'s services."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services = services_of(self.app)
        request = Request(scope)
        transport, token = services.transports.presented(request)
        try:
            authentication = await services.auth.check(transport=transport, token=token)
        except DATABASE_UNAVAILABLE as error:
            await database_unavailable_response(error)(scope, receive, send)
            return
        services.metrics.session_check(signed_in=authentication is not None)
        if authentication is None:
            await problem_response(_UNAUTHENTICATED)(scope, receive, send)
            return
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
        if refreshed is not None:  # slides like /auth/me; a proxy passes the cookie on
            transport.set_token(response, token=refreshed.token, max_age=refreshed.max_age)
        await response(scope, receive, send)
