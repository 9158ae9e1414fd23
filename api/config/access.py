"""Who may reach Signet and how: origins, proxies, introspection clients, body sizes."""

from ipaddress import ip_network
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from api.config.base import CommaSeparated, SettingsBase, comma_separated
from api.urls import origin


class AccessSettings(SettingsBase):
    allowed_origins: CommaSeparated = ()
    # Origins a sign-in may return to besides public_url's; None: the allowed origins.
    redirect_origins: Annotated[tuple[str, ...] | None, NoDecode] = None
    # Addresses or networks of reverse proxies whose X-Forwarded-For is believed.
    trusted_proxies: CommaSeparated = ()
    # Backends that may ask POST /auth/introspect: comma-separated id:secret pairs.
    introspection_clients: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    # Request bodies larger than this are refused (413) before they are read.
    max_body_bytes: Annotated[int, Field(ge=1024)] = 16 * 1024

    @property
    def introspection_credentials(self) -> dict[str, SecretStr]:
        """Introspection clients' secrets by id."""
        pairs = (client.get_secret_value().partition(":") for client in self.introspection_clients)
        return {client_id: SecretStr(secret) for client_id, _, secret in pairs}

    @field_validator("introspection_clients", mode="before")
    @classmethod
    def _clients_are_pairs(cls, value: object) -> object:
        value = comma_separated(value)
        if isinstance(value, tuple | list):
            for item in value:
                raw = item.get_secret_value() if isinstance(item, SecretStr) else str(item)
                client_id, _, secret = raw.partition(":")
                if not client_id or len(secret) < 16:
                    raise ValueError("each client is id:secret, the secret 16 characters or more")
        return value

    @field_validator("allowed_origins", "redirect_origins", mode="before")
    @classmethod
    def _allowed_origins_are_origins(cls, value: object) -> object:
        value = comma_separated(value)
        if isinstance(value, tuple | list):
            return tuple(origin(str(item)) for item in value)
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies_are_networks(cls, value: object) -> object:
        value = comma_separated(value)
        if isinstance(value, tuple | list):
            for item in value:
                try:
                    ip_network(str(item), strict=False)
                except ValueError:
                    raise ValueError(f"{item!r} is not an IP address or network") from None
        return value
