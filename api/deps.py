"""Every dependency the routes use: the one place tests override.

All are `async def`, even those that never await: FastAPI runs plain `def` dependencies in a
thread pool, and a thread hop per dependency costs more than the work they do.
"""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import httpx
from fastapi import Depends, Request, Response
from fastapi.security import APIKeyCookie, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.config import Settings
from api.login_sessions import get_session_user
from api.models import User, utcnow
from api.problems import NotAuthenticated, UnsupportedMediaType
from api.session_cache import SessionCache
from api.sessions import (
    SessionClaims,
    TokenKind,
    issue_token,
    read_token,
    set_session_cookie,
    token_lifetime,
)
from api.verifiers.base import Verifier
from api.verifiers.oidc import OIDCVerifier, ProviderKeys
from api.verifiers.persona import PersonaVerifier

Clock = Callable[[], datetime]


async def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with (see `create_app`)."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


async def get_clock() -> Clock:
    return utcnow


ClockDep = Annotated[Clock, Depends(get_clock)]


async def get_http_client(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.app.state.http_client
    return client


HttpClientDep = Annotated[httpx.AsyncClient, Depends(get_http_client)]


async def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    """Database sessions on the app's engine (tests point this at their own database)."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return sessionmaker


SessionmakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]


async def get_db_session(sessionmaker: SessionmakerDep) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_db_session)]


async def get_provider_keys(request: Request) -> ProviderKeys:
    """The OpenID provider's key cache, which lives as long as the app (see `create_app`)."""
    keys: ProviderKeys = request.app.state.provider_keys
    return keys


async def get_verifier(
    request: Request, settings: SettingsDep, client: HttpClientDep, clock: ClockDep
) -> Verifier:
    """The verifier SIGNET_VERIFIER names, built on the injected HTTP client."""
    if settings.verifier == "oidc":
        assert settings.oidc_issuer is not None  # Settings guarantees it
        return OIDCVerifier(
            client=client,
            keys=await get_provider_keys(request),
            issuer=settings.oidc_issuer,
            client_ids=settings.oidc_client_ids,
            leeway=settings.oidc_leeway,
            clock=clock,
        )
    assert settings.verifier_url is not None  # Settings guarantees it
    return PersonaVerifier(
        client=client,
        url=settings.verifier_url,
        audience=settings.audience,
        timeout=settings.verifier_timeout,
        clock=clock,
    )


VerifierDep = Annotated[Verifier, Depends(get_verifier)]


class SessionCookie(APIKeyCookie):
    """The session cookie, named by the settings; documented as an `APIKeyCookie` scheme."""

    async def __call__(self, request: Request, settings: SettingsDep) -> str | None:  # type: ignore[override]
        return request.cookies.get(settings.cookie_name)


class BearerHeader(HTTPBearer):
    """The raw Authorization header; documented as an HTTP bearer scheme."""

    async def __call__(self, request: Request) -> str | None:  # type: ignore[override]
        return request.headers.get("authorization")


# The name here is only what OpenAPI shows before create_app() puts in the configured one.
session_cookie = SessionCookie(name="signet_session", scheme_name="SessionCookie", auto_error=False)
bearer_header = BearerHeader(scheme_name="BearerToken", auto_error=False)


@dataclass(frozen=True, slots=True)
class Authentication:
    """Who is signed in, with which session, and how the request proved it."""

    user: User
    kind: TokenKind
    claims: SessionClaims


def _bearer_token(authorization: str) -> str:
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def get_session_cache(request: Request) -> SessionCache:
    """The process's cache of live sessions (see `api.session_cache`)."""
    cache: SessionCache = request.app.state.session_cache
    return cache


SessionCacheDep = Annotated[SessionCache, Depends(get_session_cache)]


async def get_authentication(
    sessionmaker: SessionmakerDep,
    cache: SessionCacheDep,
    settings: SettingsDep,
    clock: ClockDep,
    cookie: Annotated[str | None, Depends(session_cookie)],
    authorization: Annotated[str | None, Depends(bearer_header)],
) -> Authentication | None:
    """The request's session, or None. An Authorization header, even a bad one, wins."""
    token: str | None
    if authorization is not None:
        kind, token = TokenKind.BEARER, _bearer_token(authorization)
    else:
        kind, token = TokenKind.COOKIE, cookie
    if not token:
        return None
    now = clock()
    claims = read_token(settings=settings, kind=kind, token=token, now=now)
    if claims is None:
        return None
    user = cache.get(claims.session_id)
    if user is None:
        async with sessionmaker() as session:
            user = await get_session_user(session=session, session_id=claims.session_id, now=now)
        if user is None:
            return None
        cache.put(claims.session_id, user)
    return Authentication(user=user, kind=kind, claims=claims)


MaybeAuthenticated = Annotated[Authentication | None, Depends(get_authentication)]


async def require_authentication(authentication: MaybeAuthenticated) -> Authentication:
    if authentication is None:
        raise NotAuthenticated
    return authentication


Authenticated = Annotated[Authentication, Depends(require_authentication)]


async def get_current_user(
    authentication: Authenticated, settings: SettingsDep, clock: ClockDep, response: Response
) -> User:
    """The signed-in user; a cookie past its refresh point (or under an old key) is re-issued."""
    claims = authentication.claims
    if authentication.kind is TokenKind.COOKIE and claims.needs_refresh:
        now = clock()
        token = issue_token(
            settings=settings,
            kind=TokenKind.COOKIE,
            session_id=claims.session_id,
            started_at=claims.started_at,
            now=now,
        )
        lifetime = token_lifetime(settings=settings, started_at=claims.started_at, now=now)
        set_session_cookie(response, settings=settings, token=token, max_age=lifetime)
    return authentication.user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def require_json_body(request: Request) -> None:
    """Refuse bodies not declared as JSON: those are the ones a page may send cross-site."""
    content_type = request.headers.get("content-type")
    if content_type is None:
        has_body = request.headers.get("content-length", "0") != "0" or (
            "transfer-encoding" in request.headers
        )
        if has_body:
            raise UnsupportedMediaType
        return
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise UnsupportedMediaType
