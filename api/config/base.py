"""What every concern's settings share: the SIGNET_ prefix, the environment they run in, and
the ways values are written in it."""

from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from api.urls import is_http_url

# A name, not 127.0.0.1: WebAuthn refuses an IP address as the passkeys' RP ID.
DEV_ORIGIN = "http://localhost:8000"
DAY = 24 * 60 * 60


def comma_separated(value: object) -> object:
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


def _http_url(value: str | None) -> str | None:
    if value is not None and not is_http_url(value):
        raise ValueError("must be an http(s) URL")
    return value


# Comma-separated in the environment, not JSON.
CommaSeparated = Annotated[tuple[str, ...], NoDecode, BeforeValidator(comma_separated)]
HttpUrl = Annotated[str | None, AfterValidator(_http_url)]


class SettingsBase(BaseSettings):
    """The base of each concern's settings, which `Settings` composes."""

    model_config = SettingsConfigDict(env_prefix="SIGNET_", frozen=True)

    # Production unless told otherwise: `signet dev` (or SIGNET_ENV=development) for development.
    env: Literal["development", "production"] = "production"

    @property
    def is_development(self) -> bool:
        return self.env == "development"
