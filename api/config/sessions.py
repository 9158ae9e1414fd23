"""The sessions' settings: how long they last, how workers cache them, and their cookie."""

import re
from typing import Annotated

from pydantic import Field, field_validator

from api.config.base import DAY, SettingsBase

_DOMAIN = re.compile(r"^\.?(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
# RFC 6265 cookie-name token: visible ASCII without separators.
_COOKIE_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


class SessionSettings(SettingsBase):
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
    # Share the session cookie with sibling subdomains (app.example.com, auth.example.com).
    cookie_domain: str | None = None

    @property
    def session_cookie_name(self) -> str:
        """The cookie's name as sent: __Host- prefixed when it is Secure and has no domain, so
        that no subdomain or plain-HTTP page can set or shadow it."""
        if self.cookie_secure and self.cookie_domain is None:
            return f"__Host-{self.cookie_name.removeprefix('__Host-')}"
        return self.cookie_name

    @field_validator("cookie_domain")
    @classmethod
    def _cookie_domain_is_a_domain(cls, value: str | None) -> str | None:
        if value is not None and not _DOMAIN.fullmatch(value):
            raise ValueError("must be a domain like example.com (no scheme, port or path)")
        return value.lstrip(".").lower() if value else None

    @field_validator("cookie_name")
    @classmethod
    def _cookie_name_is_a_token(cls, value: str) -> str:
        if not _COOKIE_NAME.fullmatch(value):
            raise ValueError("must be a cookie-name token (letters, digits and -_.)")
        return value
