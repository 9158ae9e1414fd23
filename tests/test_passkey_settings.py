"""Which relying party Signet is for passkeys, and the settings that cannot be one."""

from typing import Any

import pytest

from api.config import Settings
from tests.apps import suite_settings


def relying_party(**changes: Any) -> Any:
    return suite_settings("sqlite+aiosqlite://", **changes).relying_party


def test_the_rp_id_is_the_public_urls_host_by_default() -> None:
    rp = relying_party(public_url="https://auth.example.com/signet")

    assert (rp.id, rp.name, rp.origins) == (
        "auth.example.com",
        "auth.example.com",
        ("https://auth.example.com",),
    )
    assert rp.requires_user_verification


def test_origins_are_spelled_as_browsers_send_them() -> None:
    rp = relying_party(
        public_url="https://auth.example.com:443",
        allowed_origins="http://app.example.com:80",
        passkey_rp_id="example.com",
    )

    assert rp.origins == ("https://auth.example.com", "http://app.example.com")


def test_the_cookie_domain_is_the_rp_id_when_no_rp_id_is_set() -> None:
    rp = relying_party(public_url="https://auth.example.com", cookie_domain="example.com")

    assert rp.id == "example.com"


def test_allowed_origins_under_the_rp_id_may_run_ceremonies_and_no_others() -> None:
    rp = relying_party(
        public_url="https://auth.example.com",
        passkey_rp_id="Example.COM",
        allowed_origins="https://app.example.com,https://example.com,https://evil-example.com",
        site_name="Example",
        passkey_user_verification="preferred",
    )

    assert rp.id == "example.com"
    assert rp.name == "Example"
    assert rp.origins == (
        "https://auth.example.com",
        "https://app.example.com",
        "https://example.com",
    )
    assert not rp.requires_user_verification


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"public_url": "https://10.0.0.5"}, "'10.0.0.5' is an IP address"),
        ({"public_url": "http://[::1]:8000"}, "'::1' is an IP address"),
        ({"public_url": "https://auth.example.com", "passkey_rp_id": "other.com"}, "'other.com'"),
        ({"public_url": "https://auth.example.com", "passkey_rp_id": "com"}, "'com'"),
        (
            {"public_url": "https://auth.example.com", "passkey_rp_id": "ample.com"},
            "('auth.example.com')",
        ),
    ],
)
def test_an_rp_id_that_cannot_be_signets_stops_the_start_naming_it(
    changes: dict[str, str], named: str
) -> None:
    with pytest.raises(ValueError, match="RP ID") as refused:
        relying_party(**changes)

    assert named in str(refused.value)


def test_with_passkeys_off_any_public_url_will_do() -> None:
    settings = suite_settings("sqlite+aiosqlite://", public_url="https://10.0.0.5", passkeys=False)

    assert isinstance(settings, Settings)


def test_passkey_is_no_providers_name() -> None:
    with pytest.raises(ValueError, match="'passkey' is reserved for passkeys"):
        suite_settings("sqlite+aiosqlite://", providers="passkey")
