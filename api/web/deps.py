"""Every dependency the routes use.

The app's services live on `app.state`: settings and the session cache from `create_app`, the
database sessionmaker and the HTTP client from the lifespan, and the clock. Tests replace them
there with one line (`app.state.clock = FakeClock()`), or replace the verifier and the HTTP client
with `app.dependency_overrides`. The session check reads `app.state` itself rather than through
sub-dependencies: each FastAPI dependency costs ~20 µs, which is most of what the check may cost.
All dependencies are `async def`: FastAPI runs plain `def` ones in a thread pool.
"""

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth.authentication import Authentication, authenticate, presented_token
from api.auth.providers.base import Verifier
from api.auth.providers.persona import PersonaVerifier
from api.auth.session_cache import SessionCache
from api.config import Settings
from api.web.problems import NotAuthenticated, UnsupportedMediaType

Clock = Callable[[], datetime]

# OpenAPI: routes that read the session say that either scheme will do (see create_app).
SESSION_SECURITY: dict[str, Any] = {"security": [{"SessionCookie": []}, {"BearerToken": []}]}
# ...and routes that also work without one add the empty requirement.
OPTIONAL_SESSION_SECURITY: dict[str, Any] = {"security": [*SESSION_SECURITY["security"], {}]}


async def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with (see `create_app`)."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


ClockDep = Annotated[Clock, Depends(get_clock)]


async def get_http_client(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.app.state.http_client
    return client


HttpClientDep = Annotated[httpx.AsyncClient, Depends(get_http_client)]


async def get_db_session(request: Request) -> AsyncIterator[AsyncSession]:
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_db_session)]


async def get_session_cache(request: Request) -> SessionCache:
    """The process's cache of checked sessions (see `api.auth.session_cache`)."""
    cache: SessionCache = request.app.state.session_cache
    return cache


SessionCacheDep = Annotated[SessionCache, Depends(get_session_cache)]


async def get_verifier(
    request: Request, settings: SettingsDep, client: HttpClientDep, clock: ClockDep
) -> Verifier:
    """The verifier SIGNET_VERIFIER names, built on the injected HTTP client."""
    if settings.verifier == "oidc":
        from api.auth.providers.oidc import OIDCVerifier  # only OIDC deployments load PyJWT

        assert settings.oidc_issuer is not None  # Settings guarantees it
        return OIDCVerifier(
            client=client,
            keys=request.app.state.provider_keys,
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


async def get_authentication(request: Request) -> Authentication | None:
    """The request's session, or None."""
    state = request.app.state
    settings: Settings = state.settings
    kind, token = presented_token(
        cookie=request.cookies.get(settings.cookie_name),
        authorization=request.headers.get("authorization"),
    )
    return await authenticate(
        settings=settings,
        now=state.clock(),
        cache=state.session_cache,
        sessionmaker=state.sessionmaker,
        kind=kind,
        token=token,
    )


MaybeAuthenticated = Annotated[Authentication | None, Depends(get_authentication)]


async def require_authentication(request: Request) -> Authentication:
    """The request's session; 401 without one."""
    authentication = await get_authentication(request)
    request.app.state.metrics.session_check(signed_in=authentication is not None)
    if authentication is None:
        raise NotAuthenticated
    return authentication


Authenticated = Annotated[Authentication, Depends(require_authentication)]


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
