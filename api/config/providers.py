"""The providers' settings: SIGNET_PROVIDERS with each one's SIGNET_PROVIDER_<NAME>_* (parsed by
auth/providers/config.py), or the single provider of SIGNET_VERIFIER and its variables."""

from typing import Annotated, Literal

from pydantic import Field, field_validator

from api.auth.providers.config import (
    ProviderConfig,
    parse_provider,
    provider_names,
    variables_of,
)
from api.config.base import CommaSeparated, HttpUrl, SettingsBase

# The settings of the single provider, refused beside SIGNET_PROVIDERS.
SINGLE_PROVIDER_FIELDS = frozenset(
    {"verifier", "verifier_url", "oidc_issuer", "oidc_client_ids", "oidc_jwks_url"}
)


class ProviderSettings(SettingsBase):
    # The providers offered, in display order; each configured by SIGNET_PROVIDER_<NAME>_*.
    providers: CommaSeparated = ()
    # Those SIGNET_PROVIDER_* variables (read from the environment unless given).
    provider_variables: dict[str, str] = Field(default_factory=dict, repr=False)
    # Without SIGNET_PROVIDERS, one provider: named after `verifier`, configured below.
    verifier: Literal["persona", "oidc"] = "persona"
    # Persona: the remote-verification endpoint.
    verifier_url: HttpUrl = None
    # OpenID Connect: the provider, our client ids, and where its keys are when not discovered.
    oidc_issuer: HttpUrl = None
    oidc_client_ids: CommaSeparated = ()
    oidc_jwks_url: HttpUrl = None
    oidc_leeway: Annotated[int, Field(ge=0, le=600)] = 60
    verifier_timeout: Annotated[float, Field(gt=0, le=60)] = 5.0

    @property
    def provider_configs(self) -> tuple[ProviderConfig, ...]:
        """The providers offered, in display order."""
        if not self.providers:
            return (self._single_provider(),)
        return tuple(
            parse_provider(
                name,
                variables_of(name, self.provider_variables),
                production=not self.is_development,
            )
            for name in self.providers
        )

    def _single_provider(self) -> ProviderConfig:
        if self.verifier == "oidc":
            client_ids = self.oidc_client_ids
            return ProviderConfig(
                name="oidc",
                kind="oidc",
                display_name="OpenID Connect",
                trust_email=False,
                issuer=self.oidc_issuer,
                client_id=client_ids[0] if client_ids else None,
                extra_client_ids=client_ids[1:],
                scopes=("openid", "email", "profile"),
                jwks_url=self.oidc_jwks_url,
            )
        return ProviderConfig(
            name="persona",
            kind="persona",
            display_name="Persona",
            trust_email=True,
            verifier_url=self.verifier_url,
        )

    @field_validator("providers", mode="before")
    @classmethod
    def _provider_names(cls, value: object) -> object:
        return provider_names(value)


def development_providers(base: str) -> dict[str, str]:
    """The built-in identity provider at `base`, both ways it speaks: the redirect flow ("dev")
    and Persona assertions ("persona", for the curl walk-through)."""
    return {
        "SIGNET_PROVIDER_DEV_KIND": "oidc",
        "SIGNET_PROVIDER_DEV_ISSUER": base,
        "SIGNET_PROVIDER_DEV_CLIENT_ID": "signet-dev",
        "SIGNET_PROVIDER_DEV_DISPLAY_NAME": "Dev",
        "SIGNET_PROVIDER_DEV_TRUST_EMAIL": "true",
        "SIGNET_PROVIDER_PERSONA_KIND": "persona",
        "SIGNET_PROVIDER_PERSONA_VERIFIER_URL": f"{base}/verify",
        "SIGNET_PROVIDER_PERSONA_DISPLAY_NAME": "Dev (Persona assertion)",
    }
