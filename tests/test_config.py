"""Settings: production by default, refusing to start half-configured; development fills in a
working setup; mistaken variable names and pasted quotes or comments are caught at start."""

from pathlib import Path

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


def test_without_settings_it_is_production_and_names_everything_missing() -> None:
    with pytest.raises(InvalidSettings) as refused:
        get_settings()

    message = str(refused.value)
    assert "SIGNET_SECRET_KEY is required" in message
    assert "no provider is configured" in message
    assert "SIGNET_PUBLIC_URL is required" in message
    assert "signet dev" in message


def test_development_has_the_built_in_identity_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGNET_ENV", "development")

    settings = get_settings()

    assert settings.env == "development"
    assert settings.database_url == f"sqlite+aiosqlite:///{Path.cwd() / 'signet.db'}"
    # The built-in identity provider, both ways, and codes by email (to the mailbox page).
    dev, persona, email = settings.provider_configs
    assert (dev.kind, dev.issuer) == ("oidc", "http://localhost:8000/dev-idp")
    assert persona.verifier_url == "http://localhost:8000/dev-idp/verify"
    assert (email.kind, settings.smtp_server) == ("email", None)
    assert settings.audience == "http://localhost:8000"
    assert len(settings.secret_key.get_secret_value()) >= 32
    assert settings.verifier_timeout == 5
    assert settings.session_idle_timeout == 14 * 24 * 3600
    assert settings.cookie_name == "signet_session"
    assert settings.cookie_secure is True


def test_settings_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGNET_ENV", "development")

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
        ("SIGNET_SECRET_KEY", None, "SIGNET_SECRET_KEY is required"),
        ("SIGNET_SECRET_KEY", "short", "SIGNET_SECRET_KEY: must be at least 32 characters"),
        ("SIGNET_VERIFIER_URL", None, "no provider is configured"),
        ("SIGNET_VERIFIER_URL", "http://v.example/", "SIGNET_VERIFIER_URL must use https"),
        ("SIGNET_VERIFIER", "oidc", "SIGNET_VERIFIER=oidc needs SIGNET_OIDC_ISSUER and"),
        ("SIGNET_VERIFIER_URL", "ftp://x", "SIGNET_VERIFIER_URL: must be an http(s) URL"),
        ("SIGNET_AUDIENCE", None, "SIGNET_PUBLIC_URL is required"),
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
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SIGNET_SECRET_KEY", "too-short-secret")

    with pytest.raises(InvalidSettings) as invalid:
        get_settings()

    assert "SIGNET_SECRET_KEY" in str(invalid.value)
    assert "too-short-secret" not in str(invalid.value)


def test_audience_is_kept_as_a_bare_origin() -> None:
    settings = Settings(env="development", audience="https://app.example/")

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


def test_production_serves_no_docs_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    assert get_settings().serves_docs is False
    get_settings.cache_clear()
    monkeypatch.setenv("SIGNET_DOCS", "true")
    assert get_settings().serves_docs is True
    get_settings.cache_clear()
    monkeypatch.setenv("SIGNET_ENV", "development")
    monkeypatch.delenv("SIGNET_DOCS")
    assert get_settings().serves_docs is True


@pytest.mark.parametrize(
    ("name", "value", "meant"),
    [
        ("SIGNET_SESSION_MAX_AGE", "3600", "it is now SIGNET_SESSION_IDLE_TIMEOUT"),
        ("SIGNET_SESION_IDLE_TIMEOUT", "3600", "did you mean SIGNET_SESSION_IDLE_TIMEOUT?"),
        ("SIGNET_COOKIE_SECURED", "false", "did you mean SIGNET_COOKIE_SECURE?"),
    ],
)
def test_a_mistaken_name_stops_production_and_warns_in_development(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    name: str,
    value: str,
    meant: str,
) -> None:
    for key, default in PRODUCTION.items():
        monkeypatch.setenv(key, default)
    monkeypatch.setenv(name, value)

    with pytest.raises(InvalidSettings, match=meant):
        get_settings()
    get_settings.cache_clear()
    monkeypatch.setenv("SIGNET_ENV", "development")
    get_settings()

    assert meant in caplog.text


@pytest.mark.parametrize(
    "name", ["SIGNET_TEST_DATABASE_URL", "SIGNET_CI_POSTGRES_URL", "SIGNET_PORT_8000_TCP_ADDR"]
)
def test_test_ci_and_kubernetes_variables_are_ignored(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    for key, default in PRODUCTION.items():
        monkeypatch.setenv(key, default)
    monkeypatch.setenv(name, "10.0.0.1")

    get_settings()

    assert name not in caplog.text


def test_an_unknown_name_is_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for key, default in PRODUCTION.items():
        monkeypatch.setenv(key, default)
    monkeypatch.setenv("SIGNET_FAVOURITE_COLOUR", "blue")

    get_settings()

    assert "SIGNET_FAVOURITE_COLOUR is not a setting Signet knows" in caplog.text


@pytest.mark.parametrize(
    "value",
    [
        "https://accounts.google.com  # from the console",
        '"https://accounts.google.com"',
        "'https://accounts.google.com'",
    ],
)
@pytest.mark.parametrize("env", ["production", "development"])
def test_a_value_pasted_with_quotes_or_a_comment_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str, env: str
) -> None:
    for key, default in PRODUCTION.items():
        monkeypatch.setenv(key, default)
    monkeypatch.setenv("SIGNET_ENV", env)
    monkeypatch.setenv("SIGNET_PROVIDER_GOOGLE_ISSUER", value)

    with pytest.raises(InvalidSettings, match="SIGNET_PROVIDER_GOOGLE_ISSUER: the value holds"):
        get_settings()


def test_a_quoted_public_url_is_refused_for_its_quotes_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not also for the audience derived from it, nor as a URL that is not http(s): the
    settings are checked with the value as it was meant."""
    monkeypatch.setenv("SIGNET_SECRET_KEY", LONG_KEY)
    monkeypatch.setenv("SIGNET_VERIFIER_URL", "https://verifier.example/verify")
    monkeypatch.setenv("SIGNET_PUBLIC_URL", '"https://x.example"')

    with pytest.raises(InvalidSettings) as refused:
        get_settings()

    assert str(refused.value) == (
        "SIGNET_PUBLIC_URL: the value holds quotes or a trailing '# comment'; give the bare value"
    )


def test_a_relative_sqlite_path_is_resolved_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)

    settings = Settings(env="development", database_url="sqlite+aiosqlite:///./data/signet.db")

    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'signet.db'}"


def test_plain_http_cookies_in_production_start_with_a_loud_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SIGNET_COOKIE_SECURE", "false")

    create_app()

    assert "SIGNET_COOKIE_SECURE=false in production" in caplog.text


EMAIL = {
    "SIGNET_ENV": "production",
    "SIGNET_SECRET_KEY": LONG_KEY,
    "SIGNET_PROVIDERS": "email",
    "SIGNET_PUBLIC_URL": "https://auth.example.com",
    "SIGNET_SMTP_URL": "smtp://signet:secret@smtp.example.com",
    "SIGNET_EMAIL_FROM": "no-reply@example.com",
}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SIGNET_SMTP_URL", None, "the email provider needs SIGNET_SMTP_URL"),
        ("SIGNET_SMTP_URL", "", "the email provider needs SIGNET_SMTP_URL"),
        ("SIGNET_EMAIL_FROM", None, "the email provider needs SIGNET_EMAIL_FROM"),
        ("SIGNET_SMTP_URL", "http://smtp.example.com", "SIGNET_SMTP_URL: must be smtp://"),
        ("SIGNET_SMTP_URL", "smtp://u:pa/ss@smtp.example.com", "percent-encode"),
        ("SIGNET_SMTP_URL", "smtp://smtp.example.com:99999", "a number from 1 to 65535"),
        ("SIGNET_SMTP_URL", "smtp://[::1", "SIGNET_SMTP_URL: must be smtp://"),
        ("SIGNET_EMAIL_FROM", "Example <no-reply@example.com>", "must be a bare address"),
        ("SIGNET_EMAIL_FROM", "nö-reply@example.com", "its local part ASCII"),
        ("SIGNET_SITE_NAME", "Example\nBcc: x@example.com", "SIGNET_SITE_NAME: must be one"),
        ("SIGNET_PROVIDER_EMAIL_KIND", "oidc", "the provider named email is the one of kind"),
    ],
)
def test_the_email_provider_refuses_settings_it_cannot_send_with(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str | None, message: str
) -> None:
    for key, default in EMAIL.items():
        monkeypatch.setenv(key, default)
    if value is None:
        monkeypatch.delenv(name)
    else:
        monkeypatch.setenv(name, value)

    with pytest.raises(InvalidSettings) as invalid:
        get_settings()

    assert message in str(invalid.value)
    assert "secret" not in str(invalid.value)


def test_the_email_provider_reads_its_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in EMAIL.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SIGNET_SMTP_URL", "smtps://me%40example.com:p%2Fss@mail.example.com")
    monkeypatch.setenv("SIGNET_EMAIL_FROM", "no-reply@exämple.com")

    settings = get_settings()
    server = settings.smtp_server

    assert server is not None
    assert (server.host, server.port, server.implicit_tls) == ("mail.example.com", 465, True)
    assert server.username == "me@example.com"
    assert server.password is not None
    assert server.password.get_secret_value() == "p/ss"
    assert settings.email_from == "no-reply@xn--exmple-cua.com"  # as it goes on the wire
    assert settings.mail_site_name == "auth.example.com"
