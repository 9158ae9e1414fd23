"""POST /auth/introspect (RFC 7662): whether a token is live, for backends that hold one."""

import base64
import binascii
import hmac
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from api.auth.policy import NotAllowed
from api.services import Services
from api.web.deps import ServicesDep
from api.web.openapi import form_body
from api.web.problems import ProblemError, problem_responses

router = APIRouter(prefix="/auth", tags=["introspection"])
INACTIVE = {"active": False}
TOKEN_TYPES = {"cookie": "session_cookie", "bearer": "bearer"}


class NoIntrospection(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            404, slug="not-found", title="Not Found", detail="Introspection is not configured."
        )


class ClientNotAuthenticated(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            401,
            slug="client-not-authenticated",
            title="Client not authenticated",
            detail="Introspection needs the client's id and secret, in HTTP Basic.",
            headers={"WWW-Authenticate": 'Basic realm="signet"'},
        )


@router.post(
    "/introspect",
    summary="Introspect a token",
    responses=problem_responses(401, 403, 404, 413),
    openapi_extra=form_body("token"),
)
async def introspect(request: Request, services: ServicesDep) -> Response:
    """Whether a token is live, and whose, for a client authenticated with HTTP Basic."""
    _authenticate_client(request, services)
    fields = parse_qs((await request.body()).decode("utf-8", "replace"))
    token = fields.get("token", [""])[0]
    return JSONResponse(await _describe(services, token), headers={"Cache-Control": "no-store"})


def _authenticate_client(request: Request, services: Services) -> None:
    clients = services.settings.introspection_credentials
    if not clients:
        raise NoIntrospection
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    try:
        client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise ClientNotAuthenticated from None
    # Every secret is compared, in constant time, whichever id was given.
    matches = [
        hmac.compare_digest(secret.encode(), known.get_secret_value().encode())
        and hmac.compare_digest(client_id.encode(), known_id.encode())
        for known_id, known in clients.items()
    ]
    if scheme.lower() != "basic" or not any(matches):
        raise ClientNotAuthenticated


async def _describe(services: Services, token: str) -> dict[str, Any]:
    if not token:
        return INACTIVE
    for transport in (services.transports.bearer, services.transports.cookie):
        try:
            authentication = await services.auth.check(transport=transport, token=token)
        except NotAllowed:  # the policy no longer lets its user in
            return INACTIVE
        if authentication is None:
            continue
        user = authentication.user
        return {
            "active": True,
            "sub": user.email,
            "email": user.email,
            "email_verified": user.email_verified,
            "iat": int(authentication.claims.issued_at.timestamp()),
            "exp": int(services.auth.ends_at(authentication.claims).timestamp()),
            "token_type": TOKEN_TYPES[transport.kind],
            "groups": list(authentication.groups),
        }
    return INACTIVE
