"""Settings: every concern's settings in one, and the rules that span them (what production
cannot start without, what development fills in, what each provider needs besides its own)."""

import hashlib
import json
import logging
import os
import secrets
from typing import Any
from urllib.parse import urlsplit

from pydantic import model_validator

from api.config.access import AccessSettings
from api.config.base import DEV_ORIGIN
from api.config.core import CoreSettings
from api.config.database import DatabaseSettings
from api.config.limits import LimitSettings
from api.config.mail import MailSettings
from api.config.passkeys import PasskeySettings, RelyingParty, relying_party
from api.config.policy import PolicySettings
from api.config.providers import SINGLE_PROVIDER_FIELDS, ProviderSettings, development_providers
from api.config.sessions import SessionSettings
from api.config.webhooks import WebhookSettings
from api.urls import is_https_or_loopback, origin_of

logger = logging.getLogger("signet.config")


# Fields are ordered from the last base to the first: the database's come first.
class Settings(
    PasskeySettings,
    WebhookSettings,
    PolicySettings,
    MailSettings,
    LimitSettings,
    AccessSettings,
    SessionSettings,
    ProviderSettings,
    CoreSettings,
    DatabaseSettings,
):
    """Everything Signet reads from its environment."""

    @property
    def offers_email(self) -> bool:
        return any(config.kind == "email" for config in self.provider_configs)

    @property
    def mail_site_name(self) -> str:
        """How messages name the site: SIGNET_SITE_NAME, else the public URL's host."""
        return self.site_name or urlsplit(self.public_url or DEV_ORIGIN).hostname or "Signet"

    @property
    def relying_party(self) -> RelyingParty:
        """Who passkeys are made for (SIGNET_PASSKEY_*); ValueError if it cannot be Signet."""
        own_origin = origin_of(self.public_url) if self.public_url else self.audience
        return relying_party(
            rp_id=self.passkey_rp_id,
            cookie_domain=self.cookie_domain,
            own_origin=own_origin,
            allowed_origins=self.allowed_origins,
            name=self.site_name or urlsplit(own_origin).hostname or "Signet",
            user_verification=self.passkey_user_verification,
        )

    @property
    def policy_digest(self) -> str:
        """A digest of the settings every host must share to answer alike (who may come in):
        /readyz shows it, so a host set differently stands out."""
        shared = {
            "allowed_domains": sorted(self.allowed_domains),
            "allowed_emails": sorted(self.allowed_emails),
            "sign_up": self.sign_up,
            "providers": {
                config.name: [
                    config.trust_email,
                    sorted(config.allowed_domains),
                    config.groups_claim,
                ]
                for config in self.provider_configs
            },
        }
        canonical = json.dumps(shared, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(canonical).hexdigest()[:16]

    @property
    def return_to_origins(self) -> frozenset[str]:
        """Origins a redirect flow may send the browser back to."""
        listed = self.allowed_origins if self.redirect_origins is None else self.redirect_origins
        own = (origin_of(self.public_url),) if self.public_url else ()
        return frozenset((*own, *listed))

    @property
    def trusted_origins(self) -> frozenset[str]:
        """Origins whose pages may send state-changing requests: the audience, Signet's own
        (its pages' forms, behind a proxy that may not say the scheme) and the allowed."""
        own = (origin_of(self.public_url),) if self.public_url else ()
        return frozenset((self.audience, *own, *self.allowed_origins))

    @model_validator(mode="after")
    def _providers_are_configured(self) -> "Settings":
        if self.providers:
            legacy = sorted(SINGLE_PROVIDER_FIELDS & self.model_fields_set)
            if legacy:
                names = ", ".join(f"SIGNET_{name.upper()}" for name in legacy)
                raise ValueError(
                    f"{names}: describe one provider; with SIGNET_PROVIDERS use "
                    "SIGNET_PROVIDER_<NAME>_* instead"
                )
        elif self.verifier == "persona" and self.verifier_url is None:
            raise ValueError("SIGNET_VERIFIER=persona needs SIGNET_VERIFIER_URL")
        elif self.verifier == "oidc" and not (self.oidc_issuer and self.oidc_client_ids):
            raise ValueError(
                "SIGNET_VERIFIER=oidc needs SIGNET_OIDC_ISSUER and SIGNET_OIDC_CLIENT_IDS"
            )
        if self.env == "production":
            # TLS is what makes the verifier's answer worth trusting; loopback needs none.
            for name, url in (
                ("SIGNET_VERIFIER_URL", self.verifier_url),
                ("SIGNET_OIDC_ISSUER", self.oidc_issuer),
                ("SIGNET_OIDC_JWKS_URL", self.oidc_jwks_url),
                ("SIGNET_PUBLIC_URL", self.public_url),
            ):
                if url is not None and not is_https_or_loopback(url):
                    raise ValueError(f"{name} must use https in production")
        configs = self.provider_configs  # parsed now, so a mistake stops the start
        if self.passkeys:
            _ = self.relying_party  # likewise
        redirecting = [c.name for c in configs if c.kind in ("oidc", "github") and self.providers]
        if redirecting and self.public_url is None and not self.is_development:
            raise ValueError(
                f"SIGNET_PUBLIC_URL is required for the redirect flow of {', '.join(redirecting)}"
            )
        if any(config.kind == "email" for config in configs) and not self.is_development:
            missing = [
                name
                for name, value in (
                    ("SIGNET_SMTP_URL", self.smtp_url),
                    ("SIGNET_EMAIL_FROM", self.email_from),
                    ("SIGNET_PUBLIC_URL", self.public_url),
                )
                if value is None
            ]
            if missing:
                raise ValueError(f"the email provider needs {', '.join(missing)}")
        return self

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        """Provider variables from the environment; the audience from the public URL; and in
        development, the built-in identity provider on the quickstart address."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if "provider_variables" not in data:
            data["provider_variables"] = {
                key: value
                for key, value in os.environ.items()
                if key.upper().startswith("SIGNET_PROVIDER_")
            }
        if isinstance(data.get("public_url"), str):
            data["public_url"] = data["public_url"].strip().rstrip("/")
        development = data.get("env", "production") == "development"
        if development:
            data.setdefault("public_url", DEV_ORIGIN)
        if data.get("audience") is None and isinstance(data.get("public_url"), str):
            data["audience"] = origin_of(data["public_url"])
        if not development:
            if data.get("env", "production") == "production":  # else the env itself is wrong
                _require_production_settings(data)
            return data
        if data.get("secret_key") is None:
            logger.warning("SIGNET_SECRET_KEY is unset: sessions last until the server restarts")
            data["secret_key"] = secrets.token_urlsafe(32)
        if not data.get("providers") and not SINGLE_PROVIDER_FIELDS & data.keys():
            # The built-in identity provider, both ways it speaks, and codes by email,
            # delivered to the development mailbox unless SIGNET_SMTP_URL is set.
            development = development_providers(f"{data['public_url']}/dev-idp")
            data["providers"] = "dev,persona,email"
            data["provider_variables"] = {**development, **data["provider_variables"]}
        data.setdefault("audience", DEV_ORIGIN)
        data.setdefault("email_from", "signet@example.com")
        return data


def _require_production_settings(data: dict[str, Any]) -> None:
    """Every setting production cannot start without, named at once."""
    missing = []
    if not data.get("secret_key"):
        missing.append(
            "SIGNET_SECRET_KEY is required: a random secret of 32 characters or more, e.g. "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    if not data.get("providers") and not SINGLE_PROVIDER_FIELDS & data.keys():
        missing.append(
            "no provider is configured: set SIGNET_PROVIDERS and SIGNET_PROVIDER_<NAME>_* "
            "(docs/providers.md), or SIGNET_VERIFIER_URL, or SIGNET_VERIFIER=oidc with "
            "SIGNET_OIDC_ISSUER and SIGNET_OIDC_CLIENT_IDS"
        )
    if data.get("audience") is None:
        missing.append(
            "SIGNET_PUBLIC_URL is required: where browsers reach Signet, e.g. "
            "https://auth.example.com (or SIGNET_AUDIENCE, the origin assertions are made for)"
        )
    if missing:
        raise ValueError(
            "production needs these settings (`signet dev` runs a development server "
            "without them):\n" + "\n".join(f"- {line}" for line in missing)
        )
