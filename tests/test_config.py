"""Settings: development fills in a working setup; production refuses to start half-configured."""

import pytest

from api.app import create_app
from api.config import InvalidSettings, Settings, get_settings

LONG_KEY = "k" * 32
PRODUCTION = {
    "SIGNET_ENV": "production",
    "SIGNET_SECRET_KEY": LONG_KEY,
    "SIGNET_VERIFIER_URL": "https://verifier.example/verify",
    "SIGNET_AUDIENCE": "https://app.example",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "SIGNET_ENV",
        "SIGNET_VERIFIER",
        "SIGNET_OIDC_ISSUER",
        "SIGNET_OIDC_CLIENT_IDS",
        "SIGNET_SECRET_KEY",
        "SIGNET_VERIFIER_URL",
        "SIGNET_AUDIENCE",
        "SIGNET_COOKIE_NAME",
    ):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()


def test_defaults_are_development_with_the_built_in_identity_provider() -> None:
    settings = get_settings()

    assert settings.env == "development"
    assert settings.database_url == "sqlite+aiosqlite:///./signet.db"
    dev, persona = settings.provider_configs  # the built-in identity provider, both ways
    assert (dev.kind, dev.issuer) == ("oidc", "http://127.0.0.1:8000/dev-idp")
    assert persona.verifier_url == "http://127.0.0.1:8000/dev-idp/verify"
    assert settings.audience == "http://127.0.0.1:8000"
    assert len(settings.secret_key.get_secret_value()) >= 32
    assert settings.verifier_timeout == 5
    assert settings.session_idle_timeout == 14 * 24 * 3600
    assert settings.cookie_name == "signet_session"
    assert settings.cookie_secure is True


def test_settings_are_read_once() -> None:
    assert get_settings() is get_settings()


def test_production_reads_its_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SIGNET_COOKIE_NAME", "__Host-session")

    settings = get_settings()

    assert settings.env == "production"
    assert settings.cookie_name == "__Host-session"
    assert settings.secret_key.get_secret_value() == LONG_KEY


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SIGNET_SECRET_KEY", None, "SIGNET_SECRET_KEY: Field required"),
        ("SIGNET_SECRET_KEY", "short", "SIGNET_SECRET_KEY: must be at least 32 characters"),
        ("SIGNET_VERIFIER_URL", None, "SIGNET_VERIFIER=persona needs SIGNET_VERIFIER_URL"),
        ("SIGNET_VERIFIER_URL", "http://v.example/", "SIGNET_VERIFIER_URL must use https"),
        ("SIGNET_VERIFIER", "oidc", "SIGNET_VERIFIER=oidc needs SIGNET_OIDC_ISSUER and"),
        ("SIGNET_VERIFIER_URL", "ftp://x", "SIGNET_VERIFIER_URL: must be an http(s) URL"),
        ("SIGNET_AUDIENCE", None, "SIGNET_AUDIENCE: Field required"),
        (
            "SIGNET_AUDIENCE",
            "https://app.example/login",
            "SIGNET_AUDIENCE: 'https://app.example/login' is not an origin",
        ),
        ("SIGNET_COOKIE_NAME", "a b", "SIGNET_COOKIE_NAME: must be a cookie-name token"),
    ],
)
def test_production_refuses_to_start_and_says_why(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str | None, message: str
) -> None:
    for key, default in PRODUCTION.items():
        monkeypatch.setenv(key, default)
    if value is None:
        monkeypatch.delenv(name)
    else:
        monkeypatch.setenv(name, value)

    with pytest.raises(SystemExit) as stopped:
        create_app()

    assert "refusing to start" in str(stopped.value.code)
    assert message in str(stopped.value.code)


def test_invalid_settings_name_the_variable_and_hide_the_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SIGNET_ENV", "production")
    monkeypatch.setenv("SIGNET_SECRET_KEY", "too-short-secret")

    with pytest.raises(InvalidSettings) as invalid:
        get_settings()

    assert "SIGNET_SECRET_KEY" in str(invalid.value)
    assert "too-short-secret" not in str(invalid.value)


def test_audience_is_kept_as_a_bare_origin() -> None:
    settings = Settings(audience="https://app.example/")

    assert settings.audience == "https://app.example"


def test_unknown_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGNET_ENV", "staging")

    with pytest.raises(InvalidSettings, match="SIGNET_ENV"):
        get_settings()


def test_a_verifier_on_loopback_may_use_plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SIGNET_VERIFIER_URL", "http://127.0.0.1:9000/verify")

    assert get_settings().verifier_url == "http://127.0.0.1:9000/verify"


def test_oidc_reads_its_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SIGNET_VERIFIER_URL")
    monkeypatch.setenv("SIGNET_VERIFIER", "oidc")
    monkeypatch.setenv("SIGNET_OIDC_ISSUER", "https://accounts.google.com")
    monkeypatch.setenv("SIGNET_OIDC_CLIENT_IDS", "web.apps.example, ios.apps.example")

    settings = get_settings()

    assert settings.oidc_client_ids == ("web.apps.example", "ios.apps.example")
    assert settings.oidc_leeway == 60
    assert settings.oidc_jwks_url is None
