"""A development identity provider: issues assertions for any email and verifies them.

It speaks the Persona remote-verification protocol, so the quickstart can sign someone in with
no internet. `create_app` mounts it in development only: it vouches for whoever asks.
"""

from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from itsdangerous import BadData, URLSafeTimedSerializer
from pydantic import BaseModel, EmailStr, Field

from api.web.deps import JSON_ONLY, SettingsDep
from api.web.openapi import form_body
from api.web.problems import problem_responses

ASSERTION_SALT = "signet.dev-idp.assertion"
ASSERTION_LIFETIME_SECONDS = 120
ISSUER = "signet-dev-idp"

router = APIRouter(prefix="/dev-idp", tags=["development identity provider"])


class AssertionRequest(BaseModel):
    """Whom the assertion is for, and the site it may sign them in to."""

    model_config = {"extra": "forbid"}

    email: EmailStr
    audience: str | None = Field(default=None, description="Defaults to SIGNET_AUDIENCE.")


class AssertionIssued(BaseModel):
    assertion: str


async def _serializer(settings: SettingsDep) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt=ASSERTION_SALT)


SerializerDep = Annotated[URLSafeTimedSerializer, Depends(_serializer)]


@router.post(
    "/assertions",
    summary="Issue a development assertion",
    dependencies=JSON_ONLY,
    responses=problem_responses(415, 422),
)
async def issue_assertion(
    body: AssertionRequest, serializer: SerializerDep, settings: SettingsDep
) -> AssertionIssued:
    """Issue a short-lived assertion for any email (development only)."""
    audience = body.audience or settings.audience
    return AssertionIssued(assertion=serializer.dumps({"email": body.email, "audience": audience}))


@router.post(
    "/verify",
    summary="Verify a development assertion (Persona)",
    openapi_extra=form_body("assertion", "audience"),
)
async def verify_assertion(request: Request, serializer: SerializerDep) -> dict[str, Any]:
    """Answer the Persona verification protocol for assertions issued here (development only)."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    assertion = form.get("assertion", [""])[0]
    audience = form.get("audience", [""])[0]
    try:
        claims, issued_at = serializer.loads(
            assertion, max_age=ASSERTION_LIFETIME_SECONDS, return_timestamp=True
        )
    except BadData:
        return {"status": "failure", "reason": "assertion is invalid or expired"}
    if not isinstance(claims, dict) or claims.get("audience") != audience:
        return {"status": "failure", "reason": "audience mismatch"}
    expires_ms = (int(issued_at.timestamp()) + ASSERTION_LIFETIME_SECONDS) * 1000
    return {
        "status": "okay",
        "email": claims["email"],
        "audience": audience,
        "expires": expires_ms,
        "issuer": ISSUER,
    }
