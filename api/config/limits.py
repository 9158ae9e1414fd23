"""The sign-in limits: attempts per client address and per email, and emailed codes' limits."""

from typing import Annotated

from pydantic import Field

from api.config.base import SettingsBase


class LimitSettings(SettingsBase):
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
