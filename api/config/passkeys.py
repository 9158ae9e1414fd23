"""Passkeys (WebAuthn): on or off, the relying party's id, and whether the authenticator must
verify the person (a PIN, a fingerprint) or only that someone is there."""

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from pydantic import field_validator

from api.config.base import SettingsBase


class PasskeySettings(SettingsBase):
    passkeys: bool = True
    # Permanent: every passkey is bound to it (see docs/passkeys.md). None: SIGNET_COOKIE_DOMAIN
    # when set, else the host of SIGNET_PUBLIC_URL.
    passkey_rp_id: str | None = None
    # "required" by default: a passkey replaces both a password and a second factor.
    passkey_user_verification: Literal["required", "preferred"] = "required"

    @field_validator("passkey_rp_id")
    @classmethod
    def _rp_id_is_lower_case(cls, value: str | None) -> str | None:
        return value.strip().lower().rstrip(".") if value else None


@dataclass(frozen=True, slots=True)
class RelyingParty:
    """Who passkeys are made for: the RP ID, its name, and the origins a ceremony may run on."""

    id: str
    name: str
    origins: tuple[str, ...]
    user_verification: Literal["required", "preferred"]

    @property
    def requires_user_verification(self) -> bool:
        return self.user_verification == "required"


def relying_party(
    *,
    rp_id: str | None,
    cookie_domain: str | None,
    own_origin: str,
    allowed_origins: Iterable[str],
    name: str,
    user_verification: Literal["required", "preferred"],
) -> RelyingParty:
    """The relying party Signet at `own_origin` is; ValueError naming the RP ID and the host
    when the one cannot serve the other."""
    host = (urlsplit(own_origin).hostname or "").lower()
    chosen = rp_id or cookie_domain or host
    if _is_ip_address(chosen):
        raise ValueError(
            f"the passkey RP ID {chosen!r} is an IP address, which WebAuthn refuses: reach "
            "Signet by a domain name (SIGNET_PUBLIC_URL; `signet dev` names itself localhost), "
            "or set SIGNET_PASSKEYS=false"
        )
    if not within(host, chosen) or ("." not in chosen and chosen != host):
        raise ValueError(
            f"the passkey RP ID {chosen!r} is neither the host of SIGNET_PUBLIC_URL ({host!r}) "
            "nor a registrable suffix of it: set SIGNET_PASSKEY_RP_ID to that host or a parent "
            "domain of it (e.g. example.com for auth.example.com)"
        )
    origins = [as_browsers_send(own_origin)]
    for origin in map(as_browsers_send, allowed_origins):
        if origin not in origins and within((urlsplit(origin).hostname or "").lower(), chosen):
            origins.append(origin)
    return RelyingParty(
        id=chosen, name=name, origins=tuple(origins), user_verification=user_verification
    )


def as_browsers_send(origin: str) -> str:
    """`origin` as a browser's clientDataJSON spells it: without its scheme's default port."""
    parts = urlsplit(origin)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    if parts.port is not None and parts.port == default:
        return f"{parts.scheme}://{parts.netloc.rpartition(':')[0]}"
    return origin


def within(host: str, rp_id: str) -> bool:
    """Whether `host` is the RP ID or a subdomain of it."""
    return host == rp_id or host.endswith(f".{rp_id}")


def _is_ip_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return False
    return True
