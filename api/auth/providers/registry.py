"""The providers the settings describe, built once per process on the shared HTTP client."""

import asyncio
import logging
from collections.abc import Iterator, Mapping

import httpx

from api.auth.providers.base import Provider, RedirectProvider
from api.auth.providers.config import ProviderConfig, trust_of
from api.auth.providers.persona import PersonaProvider
from api.clock import Clock
from api.config import Settings
from api.urls import origin_of

logger = logging.getLogger("signet.providers")


class UnknownProvider(Exception):
    """No provider of that name is offered."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class NoRedirectFlow(Exception):
    """No provider of that name signs in through the redirect flow here."""


class ProviderMisconfigured(Exception):
    """A provider's discovery document contradicts its configuration: Signet may not start."""


class ProviderRequired(Exception):
    """Several providers are offered and the request did not say which."""


class TakesNoAssertions(Exception):
    """The provider named signs in another way (the email provider: with codes)."""


class Providers(Mapping[str, Provider]):
    """The offered providers by name, in display order, with their configurations."""

    def __init__(
        self, built: dict[str, tuple[ProviderConfig, Provider]], *, public_url: str | None
    ) -> None:
        self._built = built
        self._public_url = public_url

    def __getitem__(self, name: str) -> Provider:
        return self._built[name][1]

    def __iter__(self) -> Iterator[str]:
        return iter(self._built)

    def __len__(self) -> int:
        return len(self._built)

    @property
    def configs(self) -> list[ProviderConfig]:
        return [config for config, _ in self._built.values()]

    def redirect_flow(self, name: str) -> RedirectProvider:
        """The provider `name`, if it signs in through the redirect flow; else `NoRedirectFlow`."""
        config, provider = self._built.get(name, (None, None))
        if (
            self._public_url is None
            or config is None
            or config.kind not in ("oidc", "github")
            or config.client_id is None
        ):
            raise NoRedirectFlow(name)
        return provider  # type: ignore[return-value]  # oidc and github providers redirect

    def start_url(self, name: str) -> str | None:
        """Where a browser starts signing in with `name`; None without a redirect flow."""
        try:
            self.redirect_flow(name)
        except NoRedirectFlow:
            return None
        return f"{self._public_url}/auth/providers/{name}/start"

    def callback_url(self, name: str) -> str:
        return f"{self._public_url}/auth/providers/{name}/callback"

    async def check_discovery(self, client: httpx.AsyncClient) -> None:
        """Fetch each OpenID provider's discovery document now: one that names another issuer
        stops the start (`ProviderMisconfigured`); one that cannot be had is logged, and its
        sign-ins answer provider_unavailable until it answers. Signet's own development
        provider is skipped: it is not listening yet."""
        own = origin_of(self._public_url) if self._public_url else None
        names = [
            config.name
            for config, _ in self._built.values()
            if config.kind == "oidc" and origin_of(config.issuer or "") != own
        ]
        if not names:
            return
        # Loaded only where an OpenID provider is configured (PyJWT is, by then, too).
        from api.auth.providers.jwks import IssuerMismatch
        from api.auth.providers.oidc import OIDCProvider

        checks = [
            (name, provider)
            for name in names
            if isinstance(provider := self._built[name][1], OIDCProvider)  # not a test's stand-in
        ]
        outcomes = await asyncio.gather(
            *(provider.discover() for _, provider in checks), return_exceptions=True
        )
        for (name, _), outcome in zip(checks, outcomes, strict=True):
            if isinstance(outcome, IssuerMismatch):
                raise ProviderMisconfigured(f"provider {name}: {outcome.reason}")
            if isinstance(outcome, Exception):
                logger.warning("provider %s unavailable at start: %s", name, outcome)

    def for_assertion(self, name: str | None) -> Provider:
        """The provider that verifies a posted assertion: the one named, or the only one."""
        if name is None:
            if len(self._built) != 1:
                raise ProviderRequired
            name = next(iter(self._built))
        if name not in self._built:
            raise UnknownProvider(name)
        config, provider = self._built[name]
        if config.kind == "email":
            raise TakesNoAssertions(name)
        return provider


def build_providers(
    settings: Settings,
    *,
    client: httpx.AsyncClient,
    clock: Clock,
    stand_in: Provider | None = None,
) -> Providers:
    """Every provider SIGNET_PROVIDERS (or the single-provider settings) describes; a test's
    `stand_in` answers for each of them."""
    built = {}
    for config in settings.provider_configs:
        logger.info("provider %s (%s): %s", config.name, config.kind, trust_of(config))
        built[config.name] = (
            config,
            stand_in or _build(config, settings=settings, client=client, clock=clock),
        )
    return Providers(built, public_url=settings.public_url)


def _build(
    config: ProviderConfig, *, settings: Settings, client: httpx.AsyncClient, clock: Clock
) -> Provider:
    if config.kind == "oidc":
        # Only OIDC deployments load PyJWT.
        from api.auth.providers.jwks import ProviderKeys
        from api.auth.providers.oidc import OIDCProvider

        assert config.issuer is not None  # the provider's configuration guarantees it
        keys = ProviderKeys(
            issuer=config.issuer,
            jwks_url=config.jwks_url,
            timeout=settings.verifier_timeout,
            published_issuer=config.issuer_template,
        )
        return OIDCProvider(
            name=config.name,
            client=client,
            keys=keys,
            issuer=config.issuer,
            client_ids=config.accepted_client_ids,
            leeway=settings.oidc_leeway,
            clock=clock,
            client_id=config.client_id,
            client_secret=config.client_secret,
            scopes=config.scopes,
            trust_email=config.trust_email,
            timeout=settings.verifier_timeout,
            issuer_template=config.issuer_template,
            groups_claim=config.groups_claim,
        )
    if config.kind == "email":
        from api.auth.providers.email import EmailProvider

        return EmailProvider(config.name)
    if config.kind == "persona":
        assert config.verifier_url is not None  # the provider's configuration guarantees it
        return PersonaProvider(
            name=config.name,
            client=client,
            url=config.verifier_url,
            audience=settings.audience,
            timeout=settings.verifier_timeout,
            clock=clock,
            trust_email=config.trust_email,
        )
    from api.auth.providers.github import GitHubProvider

    assert config.client_id is not None  # the provider's configuration guarantees it
    return GitHubProvider(
        name=config.name,
        client=client,
        client_id=config.client_id,
        client_secret=config.client_secret,
        scopes=config.scopes,
        timeout=settings.verifier_timeout,
        trust_email=config.trust_email,
    )
