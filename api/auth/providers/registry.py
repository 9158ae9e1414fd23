"""The providers the settings describe, built once per process on the shared HTTP client."""

from collections.abc import Iterator, Mapping

import httpx

from api.auth.providers.base import Provider
from api.auth.providers.config import ProviderConfig
from api.auth.providers.persona import PersonaProvider
from api.clock import Clock
from api.config import Settings


class UnknownProvider(Exception):
    """No provider of that name is offered."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class ProviderRequired(Exception):
    """Several providers are offered and the request did not say which."""


class Providers(Mapping[str, Provider]):
    """The offered providers by name, in display order, with their configurations."""

    def __init__(self, built: dict[str, tuple[ProviderConfig, Provider]]) -> None:
        self._built = built

    def __getitem__(self, name: str) -> Provider:
        return self._built[name][1]

    def __iter__(self) -> Iterator[str]:
        return iter(self._built)

    def __len__(self) -> int:
        return len(self._built)

    @property
    def configs(self) -> list[ProviderConfig]:
        return [config for config, _ in self._built.values()]

    def for_assertion(self, name: str | None) -> Provider:
        """The provider that verifies a posted assertion: the one named, or the only one."""
        if name is None:
            if len(self._built) != 1:
                raise ProviderRequired
            return next(iter(self._built.values()))[1]
        if name not in self._built:
            raise UnknownProvider(name)
        return self._built[name][1]


def build_providers(
    settings: Settings,
    *,
    client: httpx.AsyncClient,
    clock: Clock,
    stand_in: Provider | None = None,
) -> Providers:
    """Every provider SIGNET_PROVIDERS (or the single-provider settings) describes; a test's
    `stand_in` answers for each of them."""
    return Providers(
        {
            config.name: (
                config,
                stand_in or _build(config, settings=settings, client=client, clock=clock),
            )
            for config in settings.provider_configs
        }
    )


def _build(
    config: ProviderConfig, *, settings: Settings, client: httpx.AsyncClient, clock: Clock
) -> Provider:
    if config.kind == "oidc":
        # Only OIDC deployments load PyJWT.
        from api.auth.providers.jwks import ProviderKeys
        from api.auth.providers.oidc import OIDCProvider

        assert config.issuer is not None  # the provider's configuration guarantees it
        keys = ProviderKeys(
            issuer=config.issuer, jwks_url=config.jwks_url, timeout=settings.verifier_timeout
        )
        return OIDCProvider(
            name=config.name,
            client=client,
            keys=keys,
            issuer=config.issuer,
            client_ids=config.accepted_client_ids,
            leeway=settings.oidc_leeway,
            clock=clock,
        )
    if config.kind == "persona":
        assert config.verifier_url is not None  # the provider's configuration guarantees it
        return PersonaProvider(
            name=config.name,
            client=client,
            url=config.verifier_url,
            audience=settings.audience,
            timeout=settings.verifier_timeout,
            clock=clock,
        )
    raise NotImplementedError(f"{config.kind} providers sign in through the redirect flow")
