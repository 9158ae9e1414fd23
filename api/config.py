"""Settings, read once from `SIGNET_*` environment variables and validated at start-up."""

import logging
import os
import re
import secrets
from functools import lru_cache
from ipaddress import ip_network
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from api.auth.providers.config import (
    ProviderConfig,
    parse_provider,
    provider_names,
    variables_of,
)
from api.environment import check_environment
from api.mail.smtp import SmtpServer
from api.urls import is_http_url, is_https_or_loopback, origin, origin_of

logger = logging.getLogger("signet.config")

DEV_ORIGIN = "http://127.0.0.1:8000"
MIN_SECRET_KEY_LENGTH = 32
DAY = 24 * 60 * 60
_DOMAIN = re.compile(r"^\.?(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
# RFC 6265 cookie-name token: visible ASCII without separators.
_COOKIE_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def _long_enough(key: SecretStr) -> SecretStr:
    if len(key.get_secret_value()) < MIN_SECRET_KEY_LENGTH:
        raise ValueError(f"must be at least {MIN_SECRET_KEY_LENGTH} characters")
    return key


def _comma_separated(value: object) -> object:
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


# Comma-separated in the environment, not JSON.
CommaSeparated = Annotated[tuple[str, ...], NoDecode]


class Settings(BaseSettings):
    """Everything Signet reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="SIGNET_", frozen=True)

    # Production unless told otherwise: `signet dev` (or SIGNET_ENV=development) for development.
    env: Literal["development", "production"] = "production"
    database_url: str = "sqlite+aiosqlite:///./signet.db"
    database_pool_size: Annotated[int, Field(ge=1, le=100)] = 5
    database_max_overflow: Annotated[int, Field(ge=0, le=100)] = 10
    # Seconds to wait for a pooled connection, and to connect: a down database is a quick 503.
    database_pool_timeout: Annotated[float, Field(gt=0, le=60)] = 5.0
    database_connect_timeout: Annotated[float, Field(gt=0, le=60)] = 5.0
    # Required in production; development fills them in (see _development_defaults).
    secret_key: SecretStr
    # The Persona audience and a trusted origin; defaults to the origin of public_url.
    audience: str
    # Where browsers reach Signet; redirect-flow callbacks are {public_url}/auth/providers/….
    public_url: str | None = None
    # The providers offered, in display order; each configured by SIGNET_PROVIDER_<NAME>_*.
    providers: CommaSeparated = ()
    # Those SIGNET_PROVIDER_* variables (read from the environment unless given).
    provider_variables: dict[str, str] = Field(default_factory=dict, repr=False)
    # Without SIGNET_PROVIDERS, one provider: named after `verifier`, configured below.
    verifier: Literal["persona", "oidc"] = "persona"
    # Persona: the remote-verification endpoint.
    verifier_url: str | None = None
    # OpenID Connect: the provider, our client ids, and where its keys are when not discovered.
    oidc_issuer: str | None = None
    oidc_client_ids: CommaSeparated = ()
    oidc_jwks_url: str | None = None
    oidc_leeway: Annotated[int, Field(ge=0, le=600)] = 60
    # Older keys that still verify sessions (and get them re-signed with secret_key).
    secret_key_fallbacks: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    verifier_timeout: Annotated[float, Field(gt=0, le=60)] = 5.0
    session_idle_timeout: Annotated[int, Field(gt=0)] = 14 * DAY
    session_absolute_timeout: Annotated[int, Field(gt=0)] = 30 * DAY
    # A session used after this fraction of its idle window gets a fresh cookie.
    session_refresh_after: Annotated[float, Field(gt=0, le=1)] = 0.25
    session_purge_interval: Annotated[int, Field(gt=0)] = 60 * 60
    # Seconds between writes of when sessions were last checked (/auth/sessions' last_seen).
    session_seen_interval: Annotated[float, Field(gt=0, le=3600)] = 60.0
    # How long a worker may trust a session it has checked, should news of a revocation be lost
    # (revocations reach every worker and host at once; see auth/revocations.py).
    session_cache_ttl: Annotated[float, Field(ge=0, le=60)] = 2.0
    # How many checked sessions a worker keeps (least recently used out first): bounds memory.
    session_cache_size: Annotated[int, Field(ge=1, le=10_000_000)] = 4096
    cookie_name: str = "signet_session"
    cookie_secure: bool = True
    # Backends that may ask POST /auth/introspect: comma-separated id:secret pairs.
    introspection_clients: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    # Share the session cookie with sibling subdomains (app.example.com, auth.example.com).
    cookie_domain: str | None = None
    allowed_origins: CommaSeparated = ()
    # Origins a sign-in may return to besides public_url's; None: the allowed origins.
    redirect_origins: Annotated[tuple[str, ...] | None, NoDecode] = None
    # Logins (and token requests) per fixed 60 s window per client address and per email, counted
    # across every worker and host in the database; 0: none.
    rate_limit_per_address: Annotated[int, Field(ge=0)] = 30
    rate_limit_per_identity: Annotated[int, Field(ge=0)] = 10
    # IPv6 clients are limited per network of this prefix length (one client often has a /64).
    rate_limit_ipv6_prefix: Annotated[int, Field(ge=32, le=128)] = 64
    # Emailed codes per 15-minute window: to one email from one address, to one email from
    # anywhere, and from one address to anyone; 0: none.
    rate_limit_email_per_address_and_email: Annotated[int, Field(ge=0)] = 3
    rate_limit_email_per_email: Annotated[int, Field(ge=0)] = 5
    rate_limit_email_per_address: Annotated[int, Field(ge=0)] = 20
    # Codes tried per email per hour, right or wrong (five wrong ones burn the codes already).
    rate_limit_email_code_attempts: Annotated[int, Field(ge=0)] = 10
    # The email provider: the server mail goes through (smtp://user:password@host:port, or
    # smtps://), the sender's address, the name the messages give the site, and deadlines.
    smtp_url: SecretStr | None = None
    email_from: str | None = None
    site_name: str | None = None
    smtp_timeout: Annotated[float, Field(gt=0, le=120)] = 10.0
    # How long an emailed code and link work, in seconds.
    email_code_ttl: Annotated[int, Field(ge=60, le=24 * 60 * 60)] = 10 * 60
    # Addresses or networks of reverse proxies whose X-Forwarded-For is believed.
    trusted_proxies: CommaSeparated = ()
    # Serve Prometheus metrics at /metrics (needs signet[metrics]); keep it off the public path.
    metrics: bool = False
    # Whether login events name the email (personal data: off unless the operator wants it).
    log_emails: bool = False
    # Request bodies larger than this are refused (413) before they are read.
    max_body_bytes: Annotated[int, Field(ge=1024)] = 16 * 1024
    # /docs and /openapi.json: on in development, off in production unless asked for.
    docs: bool | None = None

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @property
    def session_cookie_name(self) -> str:
        """The cookie's name as sent: __Host- prefixed when it is Secure and has no domain, so
        that no subdomain or plain-HTTP page can set or shadow it."""
        if self.cookie_secure and self.cookie_domain is None:
            return f"__Host-{self.cookie_name.removeprefix('__Host-')}"
        return self.cookie_name

    @property
    def offers_email(self) -> bool:
        return any(config.kind == "email" for config in self.provider_configs)

    @property
    def smtp_server(self) -> SmtpServer | None:
        """Where mail goes; None in development without SIGNET_SMTP_URL (the mailbox page)."""
        return SmtpServer.parse(self.smtp_url.get_secret_value()) if self.smtp_url else None

    @property
    def public_path(self) -> str:
        """The path under which browsers reach Signet ("" at the root): its pages' links start
        with it."""
        return urlsplit(self.public_url).path.rstrip("/") if self.public_url else ""

    @property
    def mail_site_name(self) -> str:
        """How messages name the site: SIGNET_SITE_NAME, else the public URL's host."""
        return self.site_name or urlsplit(self.public_url or DEV_ORIGIN).hostname or "Signet"

    @property
    def serves_docs(self) -> bool:
        return self.is_development if self.docs is None else self.docs

    @field_validator("introspection_clients", mode="before")
    @classmethod
    def _clients_are_pairs(cls, value: object) -> object:
        value = _comma_separated(value)
        if isinstance(value, tuple | list):
            for item in value:
                raw = item.get_secret_value() if isinstance(item, SecretStr) else str(item)
                client_id, _, secret = raw.partition(":")
                if not client_id or len(secret) < 16:
                    raise ValueError("each client is id:secret, the secret 16 characters or more")
        return value

    @property
    def introspection_credentials(self) -> dict[str, SecretStr]:
        """Introspection clients' secrets by id."""
        pairs = (client.get_secret_value().partition(":") for client in self.introspection_clients)
        return {client_id: SecretStr(secret) for client_id, _, secret in pairs}

    @field_validator("database_url")
    @classmethod
    def _database_url_is_supported(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError("is not a database URL") from None
        if url.drivername not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
            raise ValueError(
                "must be sqlite+aiosqlite:///path/to/file.db or "
                "postgresql+asyncpg://user:password@host:port/database"
            )
        if url.drivername.startswith("sqlite") and url.database not in (None, "", ":memory:"):
            # Resolved once, so every worker and command means the same file wherever it runs.
            url = url.set(database=str(Path(url.database).expanduser().resolve()))
        return url.render_as_string(hide_password=False)

    @field_validator("cookie_domain")
    @classmethod
    def _cookie_domain_is_a_domain(cls, value: str | None) -> str | None:
        if value is not None and not _DOMAIN.fullmatch(value):
            raise ValueError("must be a domain like example.com (no scheme, port or path)")
        return value.lstrip(".").lower() if value else None

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url_is_a_server(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            SmtpServer.parse(value.get_secret_value())
        return value

    @field_validator("smtp_url", "email_from", "site_name", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("email_from")
    @classmethod
    def _email_from_is_an_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        message = "must be a bare address like no-reply@example.com, its local part ASCII"
        try:
            validated = validate_email(value.strip(), check_deliverability=False)
        except EmailNotValidError:
            raise ValueError(message) from None
        # As it goes on the wire: every server takes an ASCII sender (the domain in IDNA).
        if validated.ascii_email is None:
            raise ValueError(message)
        return validated.ascii_email

    @field_validator("site_name")
    @classmethod
    def _site_name_is_one_line(cls, value: str | None) -> str | None:
        if value is not None and not (0 < len(value.strip()) <= 64 and value.isprintable()):
            raise ValueError("must be one printable line of at most 64 characters")
        return value.strip() if value else None

    @field_validator("cookie_name")
    @classmethod
    def _cookie_name_is_a_token(cls, value: str) -> str:
        if not _COOKIE_NAME.fullmatch(value):
            raise ValueError("must be a cookie-name token (letters, digits and -_.)")
        return value

    @field_validator("verifier_url", "oidc_issuer", "oidc_jwks_url", "public_url")
    @classmethod
    def _is_http(cls, value: str | None) -> str | None:
        if value is not None and not is_http_url(value):
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("providers", mode="before")
    @classmethod
    def _provider_names(cls, value: object) -> object:
        return provider_names(value)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies_are_networks(cls, value: object) -> object:
        value = _comma_separated(value)
        if isinstance(value, tuple | list):
            for item in value:
                try:
                    ip_network(str(item), strict=False)
                except ValueError:
                    raise ValueError(f"{item!r} is not an IP address or network") from None
        return value

    @field_validator("oidc_client_ids", mode="before")
    @classmethod
    def _split_client_ids(cls, value: object) -> object:
        return _comma_separated(value)

    @model_validator(mode="after")
    def _providers_are_configured(self) -> "Settings":
        if self.providers:
            legacy = sorted(_SINGLE_PROVIDER_FIELDS & self.model_fields_set)
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

    @field_validator("audience")
    @classmethod
    def _audience_is_anorigin(cls, value: str) -> str:
        return origin(value)

    @field_validator("allowed_origins", "redirect_origins", mode="before")
    @classmethod
    def _allowed_origins_are_origins(cls, value: object) -> object:
        value = _comma_separated(value)
        if isinstance(value, tuple | list):
            return tuple(origin(str(item)) for item in value)
        return value

    @field_validator("secret_key_fallbacks", mode="before")
    @classmethod
    def _split_fallbacks(cls, value: object) -> object:
        return _comma_separated(value)

    @field_validator("secret_key_fallbacks")
    @classmethod
    def _fallbacks_are_long(cls, value: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        return tuple(_long_enough(key) for key in value)

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
        if not data.get("providers") and not _SINGLE_PROVIDER_FIELDS & data.keys():
            # The built-in identity provider, both ways it speaks: the redirect flow ("dev")
            # and Persona assertions ("persona", for the curl walk-through); and codes by email,
            # delivered to the development mailbox unless SIGNET_SMTP_URL is set.
            development = _development_providers(f"{data['public_url']}/dev-idp")
            data["providers"] = "dev,persona,email"
            data["provider_variables"] = {**development, **data["provider_variables"]}
        data.setdefault("audience", DEV_ORIGIN)
        data.setdefault("email_from", "signet@example.com")
        return data

    @field_validator("secret_key")
    @classmethod
    def _secret_key_is_long(cls, value: SecretStr) -> SecretStr:
        return _long_enough(value)


def _require_production_settings(data: dict[str, Any]) -> None:
    """Every setting production cannot start without, named at once."""
    missing = []
    if not data.get("secret_key"):
        missing.append(
            "SIGNET_SECRET_KEY is required: a random secret of 32 characters or more, e.g. "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    if not data.get("providers") and not _SINGLE_PROVIDER_FIELDS & data.keys():
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


# The settings of the single provider, refused beside SIGNET_PROVIDERS.
_SINGLE_PROVIDER_FIELDS = frozenset(
    {"verifier", "verifier_url", "oidc_issuer", "oidc_client_ids", "oidc_jwks_url"}
)


def _development_providers(base: str) -> dict[str, str]:
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


class InvalidSettings(Exception):
    """The environment does not describe a service that may start."""


def describe_errors(error: ValidationError) -> str:
    """One line per problem, named by its environment variable."""
    lines = []
    for problem in error.errors(include_url=False, include_input=False):
        field = str(problem["loc"][0]) if problem["loc"] else ""
        message = problem["msg"].removeprefix("Value error, ")
        # Messages about the settings as a whole name their variables themselves.
        lines.append(f"SIGNET_{field.upper()}: {message}" if field else message)
    return "\n".join(lines)


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read from the environment once; mistaken variable names stop a
    production start and are warnings in development."""
    production = os.environ.get("SIGNET_ENV", "production").strip() != "development"
    report = check_environment(os.environ, known=KNOWN_VARIABLES, production=production)
    for warning in report.warnings:
        logger.warning("%s", warning)
    problems = list(report.errors)
    try:
        settings = Settings()
    except ValidationError as error:
        problems.append(describe_errors(error))
    if problems:
        raise InvalidSettings("\n".join(problems))
    return settings


KNOWN_VARIABLES = frozenset(f"SIGNET_{name.upper()}" for name in Settings.model_fields)
