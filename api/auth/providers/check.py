"""`signet providers check`: whether each configured provider is usable, said per provider."""

from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth.providers.base import VerificationError
from api.auth.providers.config import ProviderConfig, trust_of
from api.auth.providers.jwks import ProviderKeys
from api.clock import Clock
from api.config import Settings
from api.mail.mailer import Mailer, MailUnavailable
from api.mail.smtp import SmtpMailer
from api.store.identities import verified_users_joined_through
from api.urls import is_https_or_loopback

ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint")


@dataclass(frozen=True, slots=True)
class Verdict:
    provider: str
    usable: bool
    detail: str


async def check_providers(
    settings: Settings, *, client: httpx.AsyncClient, clock: Clock, mailer: Mailer | None
) -> list[Verdict]:
    """Each provider's verdict, in display order: OpenID providers by their discovery document
    and keys, fetched now; the email provider by greeting its SMTP server."""
    verdicts = []
    for config in settings.provider_configs:
        try:
            if config.kind == "email":
                detail = await _check_mail(mailer)
            else:
                detail = await _check(config, settings=settings, client=client, clock=clock)
        except (VerificationError, MailUnavailable) as failure:
            verdicts.append(Verdict(config.name, False, f"{failure}; {trust_of(config)}"))
        else:
            verdicts.append(Verdict(config.name, True, f"{detail}; {trust_of(config)}"))
    return verdicts


async def untrusted_joins(
    settings: Settings, *, db_sessions: async_sessionmaker[AsyncSession]
) -> list[str]:
    """Lines naming each verified user with an identity of an untrusted provider: joined under
    the rule before trust was the provider's (its email_verified was believed), or linked by the
    user. Listed for an operator to review; nothing is changed."""
    untrusted = [config.name for config in settings.provider_configs if not config.trust_email]
    async with db_sessions() as db:
        rows = await verified_users_joined_through(db=db, providers=untrusted)
    return [
        f"{row.email}: through {row.provider} (subject {row.subject}), since "
        f"{row.created_at:%Y-%m-%d}"
        for row in rows
    ]


async def _check_mail(mailer: Mailer | None) -> str:
    if isinstance(mailer, SmtpMailer):
        return await mailer.check()
    return "the development mailbox (nothing is sent)"


async def _check(
    config: ProviderConfig, *, settings: Settings, client: httpx.AsyncClient, clock: Clock
) -> str:
    if config.kind == "persona":
        return f"Persona verifier {config.verifier_url} (not asked: it needs an assertion)"
    if config.kind == "github":
        return "GitHub (nothing to discover)"
    assert config.issuer is not None
    keys = ProviderKeys(
        issuer=config.issuer,
        jwks_url=config.jwks_url,
        timeout=settings.verifier_timeout,
        published_issuer=config.issuer_template,
    )
    document = await keys.discovery.document(client)
    if not settings.is_development:
        for name in ENDPOINTS:
            url = document.get(name)
            if isinstance(url, str) and not is_https_or_loopback(url):
                raise VerificationError(f"discovery: {name} {url} is not https")
    count = await keys.fetch_now(client, clock())
    return f"issuer {config.issuer}, {count} signing key{'s' if count != 1 else ''}"
