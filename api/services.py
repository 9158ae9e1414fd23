"""Services: everything the routes use, built once per process by the lifespan.

The one module that touches `app.state`. Tests replace a collaborator by building Services with
`open_services(settings, clock=…, provider=…, http_client=…)` and handing them to `create_app`.
"""

import asyncio
import gc
import logging
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth.accounts import Accounts
from api.auth.admin_keys import AdminKeys
from api.auth.attempts import Attempts
from api.auth.email_codes import PROVIDER, EmailCodes
from api.auth.one_time import OneTimeProofs
from api.auth.passkey_challenges import Challenges
from api.auth.passkeys import Passkeys
from api.auth.policy import Policy, allow_list
from api.auth.providers.base import Provider
from api.auth.providers.registry import Providers, build_providers
from api.auth.rate_limit import EmailLimits, SignInLimits
from api.auth.revocations import Revocations
from api.auth.service import AuthService
from api.auth.session_cache import SessionCache
from api.auth.sessions import Sessions
from api.auth.transports import Transports
from api.clock import Clock, Timer, monotonic, utcnow
from api.config import Settings
from api.database import open_database
from api.housekeeping import purge_expired_every, write_sightings_every
from api.mail.mailer import Mailer
from api.mail.outbox import development_outbox
from api.mail.smtp import SmtpMailer
from api.observability.metrics import Metrics, NoMetrics, PrometheusMetrics
from api.webhooks.delivery import Deliveries

logger = logging.getLogger("signet")

HTTP_POOL_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    clock: Clock
    metrics: Metrics
    db_sessions: async_sessionmaker[AsyncSession]
    http_client: httpx.AsyncClient
    providers: Providers
    transports: Transports
    sessions: Sessions
    revocations: Revocations
    limits: SignInLimits
    one_time: OneTimeProofs
    accounts: Accounts
    auth: AuthService
    admin_keys: AdminKeys
    mailer: Mailer | None
    # None unless the email provider is offered.
    email_codes: EmailCodes | None
    # None with SIGNET_PASSKEYS=false.
    passkeys: Passkeys | None


def new_mailer(settings: Settings) -> Mailer | None:
    """Where sign-in messages go: SIGNET_SMTP_URL's server, else in development the mailbox
    page (and the console); None without the email provider."""
    if not settings.offers_email:
        return None
    server = settings.smtp_server
    if server is not None:
        # The system's trust store, which honours SSL_CERT_FILE.
        tls_context = ssl.create_default_context()
        return SmtpMailer(server, timeout=settings.smtp_timeout, tls_context=tls_context)
    return development_outbox()


def new_metrics(settings: Settings) -> Metrics:
    return PrometheusMetrics() if settings.metrics else NoMetrics()


@asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    clock: Clock = utcnow,
    timer: Timer = monotonic,
    metrics: Metrics | None = None,
    http_client: httpx.AsyncClient | None = None,
    provider: Provider | None = None,
    mailer: Mailer | None = None,
) -> AsyncIterator[Services]:
    """Services for `settings`, closed on exit; what is handed in is used and left open
    (`provider` answers for every configured provider, `mailer` sends the email provider's
    messages)."""
    async with AsyncExitStack() as stack:
        metrics = metrics or new_metrics(settings)
        cache = SessionCache(
            ttl=settings.session_cache_ttl, max_entries=settings.session_cache_size, timer=timer
        )
        database = await stack.enter_async_context(
            open_database(
                settings,
                cache=cache,
                metrics=metrics,
                invite_only=settings.sign_up == "invite-only",
            )
        )
        db_sessions, sessions = database.db_sessions, database.sessions
        revocations, accounts = database.revocations, database.accounts
        if http_client is None:
            http_client = await stack.enter_async_context(
                httpx.AsyncClient(
                    limits=HTTP_POOL_LIMITS,
                    timeout=settings.verifier_timeout,
                    follow_redirects=False,
                    headers={"User-Agent": "signet"},
                )
            )
        one_time = OneTimeProofs(db_sessions=db_sessions)
        limits = SignInLimits(
            db_sessions=db_sessions,
            clock=clock,
            per_address=settings.rate_limit_per_address,
            per_identity=settings.rate_limit_per_identity,
            ipv6_prefix=settings.rate_limit_ipv6_prefix,
            email_limits=EmailLimits(
                per_address_and_email=settings.rate_limit_email_per_address_and_email,
                per_email=settings.rate_limit_email_per_email,
                per_address=settings.rate_limit_email_per_address,
                code_attempts_per_email=settings.rate_limit_email_code_attempts,
            ),
        )
        mailer = mailer or new_mailer(settings)
        policy = policy_of(settings)
        email_codes = None
        if settings.offers_email and mailer is not None:
            # The settings require both with the email provider (development fills them in).
            assert settings.public_url is not None
            assert settings.email_from is not None
            email_codes = EmailCodes(
                db_sessions=db_sessions,
                clock=clock,
                mailer=mailer,
                limits=limits,
                secret_key=settings.secret_key,
                public_url=settings.public_url,
                site_name=settings.mail_site_name,
                sender=settings.email_from,
                ttl=settings.email_code_ttl,
                admits=lambda email: admits_by_email(email, policy, accounts, clock),
                metrics=metrics,
            )
        passkeys = None
        if settings.passkeys:
            passkeys = Passkeys(
                db_sessions=db_sessions,
                clock=clock,
                challenges=Challenges(
                    secret_key=settings.secret_key,
                    fallback_keys=settings.secret_key_fallbacks,
                    one_time=one_time,
                ),
                limits=limits,
                relying_party=settings.relying_party,
                metrics=metrics,
            )
        yield Services(
            settings=settings,
            clock=clock,
            metrics=metrics,
            db_sessions=db_sessions,
            http_client=http_client,
            providers=build_providers(settings, client=http_client, clock=clock, stand_in=provider),
            transports=Transports.from_settings(settings),
            sessions=sessions,
            revocations=revocations,
            limits=limits,
            one_time=one_time,
            accounts=accounts,
            auth=AuthService(
                settings=settings,
                clock=clock,
                sessions=sessions,
                limits=limits,
                one_time=one_time,
                metrics=metrics,
                accounts=accounts,
                policy=policy,
                attempts=Attempts(
                    db_sessions=db_sessions,
                    clock=clock,
                    metrics=metrics,
                    log_emails=settings.log_emails,
                ),
            ),
            admin_keys=AdminKeys(db_sessions=db_sessions, clock=clock, limits=limits),
            mailer=mailer,
            email_codes=email_codes,
            passkeys=passkeys,
        )


def lifespan(
    settings: Settings, *, services: Services | None, metrics: Metrics
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's lifespan: opens the services (unless handed ready-made ones), and purges expired
    sessions and delivers webhooks while it runs."""

    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            running = (
                services
                if services is not None
                else await stack.enter_async_context(open_services(settings, metrics=metrics))
            )
            # On app.state rather than lifespan state, so that in-process clients (httpx's
            # ASGITransport inside `app.router.lifespan_context(app)`) see them too.
            await running.providers.check_discovery(running.http_client)
            await running.revocations.start()
            app.state.services = running
            stack.callback(delattr, app.state, "services")
            stopping = asyncio.Event()
            housekeeping = [
                asyncio.create_task(purge_expired_every(running, stopping)),
                asyncio.create_task(write_sightings_every(running, stopping)),
            ]
            if running.settings.webhooks:
                deliveries = deliveries_of(running)
                housekeeping.append(asyncio.create_task(deliveries.run(stopping)))
            # Everything loaded so far lives as long as the process: keep it out of the garbage
            # collector's full scans, which otherwise stall a request now and then.
            gc.freeze()
            try:
                yield
            finally:
                # Stopped between queries, before the services close: a query cancelled midway
                # would leave SQLite's thread to answer a loop that may be closed by then.
                stopping.set()
                await asyncio.gather(*housekeeping, return_exceptions=True)
                with suppress(Exception):  # the last sightings, if the database is there
                    await running.sessions.write_sightings()

    return run


def deliveries_of(services: Services) -> Deliveries:
    """The webhook delivery loop for the configured webhooks, on the shared HTTP client."""
    settings = services.settings
    return Deliveries(
        configs=settings.webhook_configs,
        db_sessions=services.db_sessions,
        http_client=services.http_client,
        clock=services.clock,
        metrics=services.metrics,
        retry_min=settings.webhooks_retry_min,
        retry_max=settings.webhooks_retry_max,
        max_age=settings.webhooks_max_age,
    )


def services_of(app: Any) -> Services:
    """The services of a running app (its lifespan has started)."""
    services: Services = app.state.services
    return services


async def get_services(request: Request) -> Services:
    """The dependency every other one starts from."""
    return services_of(request.app)


def policy_of(settings: Settings) -> Policy:
    """Who may come in, as the settings say: the allow-lists, and each provider's domains."""
    return Policy(
        everyone=allow_list(emails=settings.allowed_emails, domains=settings.allowed_domains),
        per_provider={
            config.name: allow_list(domains=config.allowed_domains)
            for config in settings.provider_configs
        },
    )


async def admits_by_email(email: str, policy: Policy, accounts: Accounts, clock: Clock) -> bool:
    """Whether the email provider lets `email` in: the allow-lists, and the sign-up mode (whose
    question is asked even of an email the lists refuse, so both take as long)."""
    may_sign_up = await accounts.may_sign_up(email, now=clock())
    return policy.admits(email, verified=True, provider=PROVIDER) and may_sign_up
