"""The application factory, `uvicorn --factory api.app:create_app`: routers, middleware and
error handlers, wired in one place."""

import logging

from fastapi import FastAPI
from sqlalchemy.engine import make_url

from api.config import InvalidSettings, Settings, get_settings
from api.observability.access_log import AccessLog
from api.observability.logs import configure_logging
from api.observability.metrics import PrometheusMetrics, mount_metrics
from api.services import Services, lifespan, new_metrics
from api.web import docs, favicon
from api.web.front import SignetApp
from api.web.middleware.body_limit import BodyLimitMiddleware
from api.web.middleware.cors import CorsPolicy, ProblemCORSMiddleware
from api.web.middleware.csrf import OriginCheckMiddleware
from api.web.middleware.request_log import RequestLogMiddleware
from api.web.openapi import openapi_for
from api.web.problems import install_problem_handlers
from api.web.routes import (
    admin,
    auth,
    check,
    client,
    email,
    health,
    identities,
    introspect,
    passkeys,
    providers,
    sessions,
    sign_in_page,
)

logger = logging.getLogger("signet")


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    """The service for `settings` (else the environment), or around ready-made `services`,
    which the caller opened and will close."""
    if services is not None:
        if settings is not None:
            raise TypeError("give create_app settings or services, not both")
        settings = services.settings
    elif settings is None:
        try:
            settings = get_settings()
        except InvalidSettings as error:
            raise SystemExit(f"signet: refusing to start, invalid settings:\n{error}") from None
    configure_logging(json_lines=not settings.is_development)
    access_log = AccessLog(json_lines=not settings.is_development)
    if settings.is_development:
        logger.warning("SIGNET_ENV=development: the development identity provider is mounted")
    elif not settings.cookie_secure:
        logger.warning(
            "SIGNET_COOKIE_SECURE=false in production: session cookies will also travel over "
            "plain HTTP, where anyone on the path can read and replay them"
        )
    metrics = services.metrics if services is not None else new_metrics(settings)
    database = make_url(settings.database_url)
    if database.get_backend_name() == "sqlite":
        logger.info("database: the SQLite file %s", database.database or "in memory")

    # Read once: the CORS middleware and the front door answer origins alike from it.
    cors = CorsPolicy(settings.allowed_origins)
    app = SignetApp(
        metrics=metrics,
        access_log=access_log,
        cors=cors,
        title="Signet",
        version="0.1.0",
        summary="Turn an identity assertion into a first-party signed session.",
        lifespan=lifespan(settings, services=services, metrics=metrics),
        openapi_url="/openapi.json" if settings.serves_docs else None,
        docs_url=None,
        redoc_url=None,
        # A slash redirect would be built from the request's Host header: /auth/me/ is a 404.
        redirect_slashes=False,
    )
    # Added innermost first: each add_middleware wraps everything added before it.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(OriginCheckMiddleware, trusted_origins=settings.trusted_origins)
    # Outside the origin check: CORS answers preflights before the check sees them.
    app.add_middleware(ProblemCORSMiddleware, **cors.middleware_options())
    # Outermost: every answer is logged and counted, refusals too.
    app.add_middleware(RequestLogMiddleware, metrics=metrics, access_log=access_log)
    install_problem_handlers(app)
    # The questions asked on almost every request skip FastAPI's stack (see front.py).
    app.front_door[check.PATH] = check.check_answer
    app.front_door["/auth/me"] = auth.me_answer
    # Routes are matched in order, at a few microseconds each: the hottest come first.
    app.include_router(auth.router)
    app.include_router(check.router)
    app.include_router(health.router)
    app.include_router(providers.router)
    app.include_router(email.router)
    app.include_router(identities.router)
    app.include_router(passkeys.router)
    app.include_router(introspect.router)
    app.include_router(sessions.router)
    app.include_router(sign_in_page.router)
    app.include_router(favicon.router)
    app.include_router(client.router)
    app.include_router(admin.router)
    if settings.serves_docs:
        docs.mount_docs(app)
    if isinstance(metrics, PrometheusMetrics):
        mount_metrics(app, metrics)
    if settings.is_development:
        from api.dev import demo, idp, mailbox, oidc  # never loaded in production

        app.include_router(idp.router)
        app.include_router(oidc.router)
        app.include_router(mailbox.router)
        demo.mount_demo(app)
    app.openapi = openapi_for(app, cookie_name=settings.session_cookie_name)  # type: ignore[method-assign]
    return app
