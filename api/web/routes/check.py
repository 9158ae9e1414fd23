"""GET /auth/check, for gateways (nginx auth_request, Traefik ForwardAuth, Caddy forward_auth):
204 with who is signed in, in headers, or 401; 403 for a user the route's rules (`?group=`,
`?email=`, `?domain=`) do not let through, 400 for rules that could be a typo.

The hottest path in the product: `SignetApp`'s front door answers every GET of it before
FastAPI's stack, with an Origin or without (see front.py). The route here is what the front door
must answer byte for byte (tests/test_front_door.py), and what the OpenAPI document describes.
"""

from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from api.auth.gateway_rules import EVERYONE, InvalidRule, access_rule
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
from api.web.problems import ProblemError, problem_response, problem_responses

PATH = "/auth/check"
_EACH = " (comma-separated or repeated); given several kinds, each must match."
# Documented here, not declared: check_answer reads them from the query string itself, as the
# front door does.
_RULES = [
    ("group", "Only users in any of these groups" + _EACH),
    ("email", "Only these verified emails" + _EACH),
    ("domain", "Only verified emails of these domains (`*.` for subdomains)" + _EACH),
]
RULE_PARAMETERS = [
    {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "style": "form",
        "explode": True,
        "schema": {"type": "array", "items": {"type": "string", "minLength": 1}},
    }
    for name, description in _RULES
]
router = APIRouter(tags=["gateways"])
# Percent-encoded as UTF-8 when not ASCII; these stay as they are.
_EMAIL_SAFE = "@.!#$&'*+-/=?^_`{|}~"


def email_header(email: str) -> str:
    """The email as an HTTP header value: as it is when ASCII, else percent-encoded UTF-8."""
    return email if email.isascii() else quote(email, safe=_EMAIL_SAFE)


class InvalidGatewayRule(ProblemError):
    def __init__(self, reason: str) -> None:
        super().__init__(
            400, slug="invalid-gateway-rule", title="Invalid gateway rule", detail=f"{reason}."
        )


class NotForYou(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            403,
            slug="forbidden-here",
            title="Forbidden",
            detail="You are signed in, but this page is not for your account.",
        )


FORBIDDEN_HERE = Answer.of(problem_response(NotForYou().problem))


async def check_answer(services: Services, asked: Asked) -> Answer:
    """204 with who is signed in, or 401; 403 if the route's rules do not let them through; a
    sliding session's new cookie goes with it, for the proxy to pass on."""
    try:
        rule = access_rule(asked.query)
    except InvalidRule as error:  # before the session: a typo fails for everyone, at once
        return Answer.of(problem_response(InvalidGatewayRule(str(error)).problem))
    try:
        authentication = await check_session(services, asked)
    except NotAllowed:
        return NOT_ALLOWED
    if authentication is None:
        return UNAUTHENTICATED
    user = authentication.user
    groups = authentication.groups
    if rule is not EVERYONE and not rule.allows(
        email=user.email, verified=user.email_verified, groups=groups
    ):
        return FORBIDDEN_HERE
    headers = [
        (b"x-signet-email", email_header(user.email).encode()),
        (b"x-signet-email-verified", b"true" if user.email_verified else b"false"),
        (b"x-signet-provider", (authentication.provider or "").encode()),
        (b"x-signet-groups", ",".join(groups).encode()),
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
            "description": "Signed in (and let through by the rules): X-Signet-Email "
            "(percent-encoded UTF-8 when not ASCII), X-Signet-Email-Verified (true or false), "
            "X-Signet-Provider and X-Signet-Groups (sorted, comma-separated; empty for none) "
            "say who."
        },
        **problem_responses(400, 401, 403, 503),
    },
    openapi_extra={**SESSION_SECURITY, "parameters": RULE_PARAMETERS},
)
async def check(request: Request, services: ServicesDep) -> Response:
    """For a gateway's subrequest: 204 with who is signed in, in headers; 401, or 403."""
    return (await check_answer(services, Asked.of(request))).response()
