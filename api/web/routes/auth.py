"""Sign in (cookie or bearer token), the current user, and signing out."""

import logging
import time
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request, Response, status
from starlette.datastructures import State

from api.auth.providers.base import VerificationError, Verifier
from api.auth.rate_limit import RateLimiter
from api.auth.tokens import (
    TokenKind,
    clear_session_cookie,
    issue_token,
    set_session_cookie,
    token_lifetime,
)
from api.config import Settings
from api.store.sessions import end_all_sessions, end_session
from api.store.sign_in_writer import SignInWriter
from api.store.tables import BearerToken, LoginRequest, UserPublic
from api.web.client_address import client_address
from api.web.deps import (
    OPTIONAL_SESSION_SECURITY,
    SESSION_SECURITY,
    Authenticated,
    MaybeAuthenticated,
    SessionCacheDep,
    SessionDep,
    SettingsDep,
    VerifierDep,
    require_authentication,
    require_json_body,
)
from api.web.problems import TooManyRequests, problem_responses

events = logging.getLogger("signet.events")
router = APIRouter(prefix="/auth", tags=["auth"])
# State-changing routes refuse bodies that are not JSON (see require_json_body).
JSON_ONLY = [Depends(require_json_body)]


@dataclass(frozen=True, slots=True)
class _SignedIn:
    user: UserPublic
    token: str
    lifetime: int
    settings: Settings


async def _sign_in(
    request: Request, verifier: Verifier, assertion: str, kind: TokenKind
) -> _SignedIn:
    """Verify the assertion, write the login, and issue a token of `kind` for the new session."""
    # Services straight from app.state, as /auth/me does: a dependency each would cost more
    # than everything a login does besides asking the verifier.
    state = request.app.state
    settings: Settings = state.settings
    writer: SignInWriter = state.sign_in_writer
    # Limited before the verifier is asked, so Signet cannot be used to flood it...
    address = client_address(request, trusted_proxies=settings.trusted_proxies)
    try:
        _within_limit(state.address_limiter, f"address:{address}")
        asked = time.perf_counter()
        try:
            identity = await verifier.verify(assertion)
        finally:
            state.metrics.verifier_seconds(time.perf_counter() - asked)
        # ...and per email once it is known, so one account cannot be signed in to in a loop.
        _within_limit(state.identity_limiter, f"identity:{identity.email}")
    except (VerificationError, TooManyRequests) as error:
        _record_login(state, kind, outcome=type(error).__name__)
        raise
    _record_login(state, kind, outcome="ok", email=identity.email)
    now = state.clock()
    user, started = await writer.sign_in(
        email=identity.email, now=now, lifetime=settings.session_absolute_timeout
    )
    token = issue_token(
        settings=settings, kind=kind, session_id=started.id, started_at=now, now=now
    )
    lifetime = token_lifetime(settings=settings, started_at=now, now=now)
    return _SignedIn(user=user, token=token, lifetime=lifetime, settings=settings)


def _record_login(state: State, kind: TokenKind, *, outcome: str, email: str = "") -> None:
    details = {"event": "login", "kind": str(kind), "outcome": outcome}
    if email and state.settings.log_emails:
        details["email"] = email
    events.info("login %s", outcome, extra=details)
    state.metrics.login(kind=str(kind), outcome=outcome)


def _within_limit(limiter: RateLimiter, key: str) -> None:
    retry_after = limiter.retry_after(key)
    if retry_after is not None:
        raise TooManyRequests(retry_after)


@router.post(
    "/login",
    summary="Sign in with an assertion",
    dependencies=JSON_ONLY,
    response_model=UserPublic,
    responses=problem_responses(400, 401, 403, 413, 415, 422, 429, 503),
)
async def login(body: LoginRequest, verifier: VerifierDep, request: Request) -> Response:
    """Verify an identity assertion and start a cookie session for the email it proves."""
    signed_in = await _sign_in(request, verifier, body.assertion, TokenKind.COOKIE)
    response = Response(signed_in.user.model_dump_json(), media_type="application/json")
    set_session_cookie(
        response, settings=signed_in.settings, token=signed_in.token, max_age=signed_in.lifetime
    )
    return response


@router.post(
    "/token",
    summary="Get a bearer token for an assertion",
    dependencies=JSON_ONLY,
    responses=problem_responses(400, 401, 403, 413, 415, 422, 429, 503),
)
async def token(
    body: LoginRequest, verifier: VerifierDep, request: Request, response: Response
) -> BearerToken:
    """Verify an identity assertion and start a session carried by a bearer token, not a cookie."""
    signed_in = await _sign_in(request, verifier, body.assertion, TokenKind.BEARER)
    response.headers["Cache-Control"] = "no-store"
    return BearerToken(access_token=signed_in.token, expires_in=signed_in.lifetime)


@router.get(
    "/me",
    summary="Who is signed in",
    response_model=UserPublic,
    responses=problem_responses(401),
    openapi_extra=SESSION_SECURITY,
)
async def me(request: Request) -> Response:
    """The user signed in with this session cookie or bearer token."""
    # The hot path: no dependencies to resolve (each costs ~20 us), and the user's JSON was
    # rendered when the session was checked, so it is sent as it is.
    authentication = await require_authentication(request)
    settings: Settings = request.app.state.settings
    response = Response(authentication.user_json, media_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    if authentication.reissued is not None:
        reissued = authentication.reissued
        set_session_cookie(
            response, settings=settings, token=reissued.token, max_age=reissued.max_age
        )
    return response


def _signed_out(settings: Settings) -> Response:
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookie(response, settings=settings)
    return response


@router.post(
    "/logout",
    summary="Sign out",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    dependencies=JSON_ONLY,
    responses=problem_responses(403, 415),
    openapi_extra=OPTIONAL_SESSION_SECURITY,
)
async def logout(
    authentication: MaybeAuthenticated,
    session: SessionDep,
    cache: SessionCacheDep,
    settings: SettingsDep,
) -> Response:
    """End this session on the server and clear its cookie; works with or without one."""
    if authentication is not None:
        session_id = authentication.claims.session_id
        await end_session(session=session, session_id=session_id)
        cache.forget_session(session_id)
    return _signed_out(settings)


@router.post(
    "/logout-everywhere",
    summary="Sign out everywhere",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    dependencies=JSON_ONLY,
    responses=problem_responses(401, 403, 415),
    openapi_extra=SESSION_SECURITY,
)
async def logout_everywhere(
    authentication: Authenticated,
    session: SessionDep,
    cache: SessionCacheDep,
    settings: SettingsDep,
) -> Response:
    """End every session of the signed-in user, this one included."""
    await end_all_sessions(session=session, email=authentication.user.email)
    cache.forget_user(authentication.user.email)
    return _signed_out(settings)
