"""The application factory: `uvicorn --factory api.app:create_app`."""

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth.rate_limit import RateLimiter
from api.auth.session_cache import SessionCache
from api.config import InvalidSettings, Settings, get_settings
from api.observability.logs import RequestLogMiddleware, configure_logging
from api.observability.metrics import NoMetrics, PrometheusMetrics, mount_metrics
from api.store.db import create_engine, create_sessionmaker
from api.store.sessions import purge_expired_sessions
from api.store.sign_in_writer import SignInWriter
from api.store.tables import utcnow
from api.web import docs
from api.web.middleware.body_limit import BodyLimitMiddleware
from api.web.middleware.cors import ProblemCORSMiddleware
from api.web.middleware.csrf import OriginCheckMiddleware
from api.web.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers
from api.web.routes import auth, health

logger = logging.getLogger("signet")

HTTP_POOL_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


def _lifespan(settings: Settings) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # On app.state rather than lifespan state, so that in-process clients (httpx's
        # ASGITransport inside `app.router.lifespan_context(app)`) see them too.
        engine = create_engine(
            settings.database_url,
            connect_timeout=settings.database_connect_timeout,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            pool_timeout=settings.database_pool_timeout,
        )
        sessionmaker = create_sessionmaker(engine)
        async with httpx.AsyncClient(
            limits=HTTP_POOL_LIMITS,
            timeout=settings.verifier_timeout,
            follow_redirects=False,
            headers={"User-Agent": "signet"},
        ) as http_client:
            app.state.http_client = http_client
            app.state.sessionmaker = sessionmaker
            app.state.sign_in_writer = writer = SignInWriter(sessionmaker)
            purger = asyncio.create_task(
                purge_expired_sessions_every(settings.session_purge_interval, sessionmaker)
            )
            # Everything loaded so far lives as long as the process: keep it out of the garbage
            # collector's full scans, which otherwise stall a request now and then.
            gc.freeze()
            try:
                yield
            finally:
                purger.cancel()
                await writer.aclose()
                del app.state.http_client, app.state.sessionmaker, app.state.sign_in_writer
                await engine.dispose()

    return lifespan


def _openapi(app: FastAPI, settings: Settings) -> Callable[[], dict[str, Any]]:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                "SessionCookie": {"type": "apiKey", "in": "cookie", "name": settings.cookie_name},
                "BearerToken": {"type": "http", "scheme": "bearer"},
            }
            _errors_as_problems(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi


def _errors_as_problems(schema: dict[str, Any]) -> None:
    # FastAPI files every documented response under the route's media type; errors are problems.
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[0] in "45" and "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")


async def purge_expired_sessions_every(
    seconds: int, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Delete expired session rows now and then, so they never pile up; each worker may run it."""
    while True:
        try:
            async with sessionmaker() as session:
                purged = await purge_expired_sessions(session=session, now=utcnow())
            if purged:
                logger.info("purged %d expired sessions", purged)
        except Exception:
            logger.exception("purging expired sessions failed; will try again")
        await asyncio.sleep(seconds)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service from `settings`, or from the environment."""
    if settings is None:
        try:
            settings = get_settings()
        except InvalidSettings as error:
            raise SystemExit(f"signet: refusing to start, invalid settings:\n{error}") from None
    configure_logging(json_lines=not settings.is_development)
    if settings.is_development:
        logger.warning("SIGNET_ENV=development: the development identity provider is mounted")

    app = FastAPI(
        title="Signet",
        version="0.1.0",
        summary="Turn an identity assertion into a first-party signed session.",
        lifespan=_lifespan(settings),
        openapi_url="/openapi.json" if settings.docs else None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.clock = utcnow
    app.state.session_cache = SessionCache(ttl=settings.session_cache_ttl)
    app.state.metrics = PrometheusMetrics() if settings.metrics else NoMetrics()
    app.state.address_limiter = RateLimiter(per_minute=settings.rate_limit_per_address)
    app.state.identity_limiter = RateLimiter(per_minute=settings.rate_limit_per_identity)
    if settings.verifier == "oidc":
        from api.auth.providers.oidc import ProviderKeys  # only OIDC deployments load PyJWT

        assert settings.oidc_issuer is not None  # Settings guarantees it
        app.state.provider_keys = ProviderKeys(
            issuer=settings.oidc_issuer,
            jwks_url=settings.oidc_jwks_url,
            timeout=settings.verifier_timeout,
        )
    # Outermost first: CORS answers preflights before the origin check sees the request.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(OriginCheckMiddleware, trusted_origins=settings.trusted_origins)
    app.add_middleware(
        ProblemCORSMiddleware,
        allow_origins=list(settings.allowed_origins),
        allow_credentials=True,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "Authorization"],
        max_age=600,
    )
    # Outermost: every answer is logged and counted, 403s too.
    app.add_middleware(RequestLogMiddleware, metrics=app.state.metrics)
    install_problem_handlers(app)
    app.include_router(auth.router)
    app.include_router(health.router)
    if settings.docs:
        docs.mount_docs(app)
    if isinstance(app.state.metrics, PrometheusMetrics):
        mount_metrics(app, app.state.metrics)
    if settings.is_development:
        from api.dev import demo, idp  # never loaded in production

        app.include_router(idp.router)
        demo.mount_demo(app)
    app.openapi = _openapi(app, settings)  # type: ignore[method-assign]
    return app
