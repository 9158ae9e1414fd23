"""Which providers are offered, and how each is configured: `SIGNET_PROVIDERS` names them, in
display order, and `SIGNET_PROVIDER_<NAME>_<FIELD>` configures each; `google`, `microsoft` and
`github` are presets that fill in the kind, issuer and display name."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from pydantic import SecretStr

from api.auth.policy import domain_entry
from api.urls import is_http_url, is_https_or_loopback

Kind = Literal["oidc", "github", "persona", "email"]
KINDS: tuple[Kind, ...] = ("oidc", "github", "persona", "email")
FIELDS = frozenset(
    {
        "KIND",
        "ISSUER",
        "CLIENT_ID",
        "EXTRA_CLIENT_IDS",
        "CLIENT_SECRET",
        "SCOPES",
        "DISPLAY_NAME",
        "TRUST_EMAIL",
        "ALLOWED_DOMAINS",
        "GROUPS_CLAIM",
        "VERIFIER_URL",
        "TENANT",
    }
)
_NAME = re.compile(r"^[a-z][a-z0-9]{0,31}$")
MICROSOFT_ISSUER = "https://login.microsoftonline.com/{tenant}/v2.0"
# Multi-tenant endpoints publish this issuer; each token's is it with its own `tid` in place.
MICROSOFT_ISSUER_TEMPLATE = MICROSOFT_ISSUER.format(tenant="{tenantid}")
MULTI_TENANT = frozenset({"common", "organizations", "consumers"})
_TENANT = re.compile(r"^[A-Za-z0-9.-]{1,64}$")
PRESETS: dict[str, dict[str, str]] = {
    "google": {
        "KIND": "oidc",
        "ISSUER": "https://accounts.google.com",
        "DISPLAY_NAME": "Google",
        "TRUST_EMAIL": "true",
    },
    "microsoft": {"KIND": "oidc", "DISPLAY_NAME": "Microsoft", "TENANT": "common"},
    "github": {"KIND": "github", "DISPLAY_NAME": "GitHub", "SCOPES": "read:user user:email"},
    # Configured by the deployment-wide SIGNET_SMTP_URL, SIGNET_EMAIL_FROM and SIGNET_SITE_NAME.
    "email": {"KIND": "email", "DISPLAY_NAME": "Email"},
}
DEFAULT_SCOPES = {"oidc": ("openid", "email", "profile"), "github": ("read:user", "user:email")}
# Whose email is believed without email_verified: providers that only hand out verified ones.
# Signet checks an email provider's addresses itself.
TRUSTED_BY_DEFAULT = {"persona": True, "github": True, "oidc": False, "email": True}


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    name: str
    kind: Kind
    display_name: str
    trust_email: bool
    issuer: str | None = None
    client_id: str | None = None
    extra_client_ids: tuple[str, ...] = ()
    client_secret: SecretStr | None = field(default=None, repr=False)
    scopes: tuple[str, ...] = ()
    verifier_url: str | None = None
    tenant: str | None = None
    # Where the keys are when not discovered (the single-provider SIGNET_OIDC_JWKS_URL).
    jwks_url: str | None = None
    # Sign-ins through this provider only for these domains (canonical; `*.` for subdomains).
    allowed_domains: tuple[str, ...] = ()
    # The ID token's (or userinfo's) claim listing the user's groups, for a trusted provider.
    groups_claim: str | None = None

    @property
    def issuer_template(self) -> str | None:
        """For a multi-tenant Microsoft provider, the issuer with `{tenantid}` in it."""
        return MICROSOFT_ISSUER_TEMPLATE if self.tenant in MULTI_TENANT else None

    @property
    def accepted_client_ids(self) -> tuple[str, ...]:
        """The `aud` values a posted ID token may carry."""
        return (*((self.client_id,) if self.client_id else ()), *self.extra_client_ids)


RESERVED_NAME = "passkey"


def provider_names(value: object) -> tuple[str, ...]:
    """`SIGNET_PROVIDERS`: unique, well-formed names, in order."""
    names = value if isinstance(value, tuple | list) else str(value).split(",")
    cleaned = tuple(str(name).strip().lower() for name in names if str(name).strip())
    for name in cleaned:
        if not _NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a provider name (a-z, then a-z or 0-9)")
    if len(set(cleaned)) != len(cleaned):
        raise ValueError("names a provider twice")
    if RESERVED_NAME in cleaned:
        # Sessions started with a passkey say so by this name.
        raise ValueError(f"{RESERVED_NAME!r} is reserved for passkeys: name the provider otherwise")
    return cleaned


def variables_of(name: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The `SIGNET_PROVIDER_<NAME>_<FIELD>` variables of one provider, by field."""
    prefix = f"SIGNET_PROVIDER_{name.upper()}_"
    return {
        key[len(prefix) :].upper(): value
        for key, value in environ.items()
        if key.upper().startswith(prefix)
    }


def parse_provider(name: str, given: Mapping[str, str], *, production: bool) -> ProviderConfig:
    """One provider's configuration from its variables over its preset; ValueError naming the
    variable that is wrong."""
    prefix = f"SIGNET_PROVIDER_{name.upper()}_"
    unknown = sorted(set(given) - FIELDS)
    if unknown:
        raise ValueError(f"{prefix}{unknown[0]} is not a provider setting")
    values = {**PRESETS.get(name, {}), **{key: value.strip() for key, value in given.items()}}
    kind = values.get("KIND", "").lower()
    if kind not in KINDS:
        raise ValueError(f"{prefix}KIND must be one of {', '.join(KINDS)}")
    if (kind == "email") != (name == "email"):
        raise ValueError(f"{prefix}KIND: the provider named email is the one of kind email")
    issuer = values.get("ISSUER") or None
    tenant = values.get("TENANT") or None
    if tenant is not None and name != "microsoft":
        raise ValueError(f"{prefix}TENANT is for the microsoft provider only")
    if tenant is not None and not _TENANT.fullmatch(tenant):
        raise ValueError(f"{prefix}TENANT must be a tenant id, common or organizations")
    if name == "microsoft" and issuer is None and tenant is not None:
        issuer = MICROSOFT_ISSUER.format(tenant=tenant)
    urls = {"ISSUER": issuer, "VERIFIER_URL": values.get("VERIFIER_URL") or None}
    for key, url in urls.items():
        if url is None:
            continue
        if not is_http_url(url):
            raise ValueError(f"{prefix}{key} must be an http(s) URL")
        if production and not is_https_or_loopback(url):
            raise ValueError(f"{prefix}{key} must use https in production")
    client_id = values.get("CLIENT_ID") or None
    extra = tuple(
        item.strip() for item in values.get("EXTRA_CLIENT_IDS", "").split(",") if item.strip()
    )
    if kind == "oidc" and issuer is None:
        raise ValueError(f"{prefix}ISSUER is required for an OpenID Connect provider")
    if kind in ("oidc", "github") and not (client_id or extra):
        raise ValueError(f"{prefix}CLIENT_ID is required")
    if kind == "github" and not values.get("CLIENT_SECRET"):
        raise ValueError(f"{prefix}CLIENT_SECRET is required for GitHub")
    if kind == "persona" and urls["VERIFIER_URL"] is None:
        raise ValueError(f"{prefix}VERIFIER_URL is required for a Persona provider")
    trust = values.get("TRUST_EMAIL", "").lower()
    if trust not in ("", "true", "false"):
        raise ValueError(f"{prefix}TRUST_EMAIL must be true or false")
    if kind == "email" and trust == "false":
        raise ValueError(f"{prefix}TRUST_EMAIL cannot be false: Signet proves these addresses")
    trusted = TRUSTED_BY_DEFAULT[kind] if trust == "" else trust == "true"
    groups_claim = values.get("GROUPS_CLAIM", "").strip() or None
    if groups_claim is not None and not (trusted and kind == "oidc"):
        raise ValueError(
            f"{prefix}GROUPS_CLAIM needs an OpenID provider whose emails are trusted "
            f"({prefix}TRUST_EMAIL=true): an untrusted one could put anyone in any group"
        )
    scopes = values.get("SCOPES")
    secret = values.get("CLIENT_SECRET")
    return ProviderConfig(
        name=name,
        kind=kind,
        display_name=values.get("DISPLAY_NAME") or name.capitalize(),
        trust_email=trusted,
        issuer=issuer,
        client_id=client_id,
        extra_client_ids=extra,
        client_secret=SecretStr(secret) if secret else None,
        scopes=tuple(scopes.split()) if scopes else DEFAULT_SCOPES.get(kind, ()),
        verifier_url=urls["VERIFIER_URL"],
        tenant=tenant,
        allowed_domains=_domains(values.get("ALLOWED_DOMAINS", ""), f"{prefix}ALLOWED_DOMAINS"),
        groups_claim=groups_claim,
    )


def _domains(value: str, variable: str) -> tuple[str, ...]:
    try:
        return tuple(domain_entry(item.strip()) for item in value.split(",") if item.strip())
    except ValueError as error:
        raise ValueError(f"{variable}: {error}") from None


def trust_of(config: ProviderConfig) -> str:
    """The provider's trust, in the words the start-up log and `signet providers check` use."""
    if config.trust_email:
        return "emails trusted (verified unless the provider says otherwise)"
    return "emails not trusted (its users are unverified; SIGNET_PROVIDER_<NAME>_TRUST_EMAIL)"
