"""The core settings: the secret key, where browsers reach Signet, and what it shows of itself
(docs, metrics, emails in logs)."""

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import SecretStr, field_validator
from pydantic_settings import NoDecode

from api.config.base import HttpUrl, SettingsBase, comma_separated
from api.urls import origin

MIN_SECRET_KEY_LENGTH = 32


def long_enough(key: SecretStr) -> SecretStr:
    if len(key.get_secret_value()) < MIN_SECRET_KEY_LENGTH:
        raise ValueError(f"must be at least {MIN_SECRET_KEY_LENGTH} characters")
    return key


class CoreSettings(SettingsBase):
    # Required in production; development fills them in (see settings.py's _defaults).
    secret_key: SecretStr
    # The Persona audience and a trusted origin; defaults to the origin of public_url.
    audience: str
    # Where browsers reach Signet; redirect-flow callbacks are {public_url}/auth/providers/….
    public_url: HttpUrl = None
    # Older keys that still verify sessions (and get them re-signed with secret_key).
    secret_key_fallbacks: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    # Serve Prometheus metrics at /metrics (needs signet[metrics]); keep it off the public path.
    metrics: bool = False
    # Whether login events name the email (personal data: off unless the operator wants it).
    log_emails: bool = False
    # /docs and /openapi.json: on in development, off in production unless asked for.
    docs: bool | None = None

    @property
    def public_path(self) -> str:
        """The path under which browsers reach Signet ("" at the root): its pages' links start
        with it."""
        return urlsplit(self.public_url).path.rstrip("/") if self.public_url else ""

    @property
    def serves_docs(self) -> bool:
        return self.is_development if self.docs is None else self.docs

    @field_validator("audience")
    @classmethod
    def _audience_is_anorigin(cls, value: str) -> str:
        return origin(value)

    @field_validator("secret_key_fallbacks", mode="before")
    @classmethod
    def _split_fallbacks(cls, value: object) -> object:
        return comma_separated(value)

    @field_validator("secret_key_fallbacks")
    @classmethod
    def _fallbacks_are_long(cls, value: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        return tuple(long_enough(key) for key in value)

    @field_validator("secret_key")
    @classmethod
    def _secret_key_is_long(cls, value: SecretStr) -> SecretStr:
        return long_enough(value)
