"""The provider the settings describe, built once per process on the shared HTTP client."""

import httpx

from api.auth.providers.base import Provider
from api.auth.providers.persona import PersonaProvider
from api.clock import Clock
from api.config import Settings


def build_provider(settings: Settings, *, client: httpx.AsyncClient, clock: Clock) -> Provider:
    """The provider SIGNET_VERIFIER names."""
    if settings.verifier == "oidc":
        # Only OIDC deployments load PyJWT.
        from api.auth.providers.jwks import ProviderKeys
        from api.auth.providers.oidc import OIDCProvider

        assert settings.oidc_issuer is not None  # Settings guarantees it
        keys = ProviderKeys(
            issuer=settings.oidc_issuer,
            jwks_url=settings.oidc_jwks_url,
            timeout=settings.verifier_timeout,
        )
        return OIDCProvider(
            client=client,
            keys=keys,
            issuer=settings.oidc_issuer,
            client_ids=settings.oidc_client_ids,
            leeway=settings.oidc_leeway,
            clock=clock,
        )
    assert settings.verifier_url is not None  # Settings guarantees it
    return PersonaProvider(
        client=client,
        url=settings.verifier_url,
        audience=settings.audience,
        timeout=settings.verifier_timeout,
        clock=clock,
    )
