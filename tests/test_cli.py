"""The `signet` command: what operators and scripts see, exit codes included."""

import asyncio
import importlib.metadata
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import update
from sqlmodel import col

from api.cli import EXIT_NO_SUCH_USER, EXIT_OK, EXIT_PROVIDER_UNUSABLE, EXIT_UNUSABLE, main
from api.config import get_settings
from api.store.db import create_db_sessions, create_engine
from api.store.identities import add_identity
from api.store.sign_in_writer import Login, write_sign_ins
from api.store.tables import User
from tests.servers import free_port
from tests.smtp_server import SmtpSink

T0 = datetime(2026, 2, 1, tzinfo=UTC)
UNTRUSTED = "emails not trusted (its users are unverified; SIGNET_PROVIDER_<NAME>_TRUST_EMAIL)"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated database the command is pointed at through the environment."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    for name in ("SIGNET_SECRET_KEY", "SIGNET_AUDIENCE", "SIGNET_VERIFIER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SIGNET_ENV", "development")
    monkeypatch.setenv("SIGNET_DATABASE_URL", url)
    get_settings.cache_clear()
    assert main(["migrate"]) == EXIT_OK
    yield url
    get_settings.cache_clear()


def seed(url: str, *emails: str) -> None:
    async def run() -> None:
        engine = create_engine(url)
        async with create_db_sessions(engine)() as session:
            logins = [Login(email=email, now=T0, lifetime=3600) for email in emails]
            await write_sign_ins(db=session, logins=logins)
        await engine.dispose()

    asyncio.run(run())


def add_identities(
    url: str, identities: list[tuple[str, str, str]], *, unverified: set[str]
) -> None:
    """Identities (provider, subject, email) as the rule before per-provider trust joined them;
    the `unverified` users marked so, with an untrusted identity each."""

    async def run() -> None:
        engine = create_engine(url)
        async with create_db_sessions(engine)() as db:
            for provider, subject, email in identities:
                await add_identity(db=db, provider=provider, subject=subject, email=email, now=T0)
            for email in unverified:
                await add_identity(db=db, provider="partner", subject=email, email=email, now=T0)
                await db.execute(
                    update(User).where(col(User.email) == email).values(email_verified=False)
                )
            await db.commit()
        await engine.dispose()

    asyncio.run(run())


def test_list_shows_each_user_with_their_session_count(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(database, "edith@example.com", "edith@example.com", "francis@example.com")

    assert main(["users", "list"]) == EXIT_OK

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "email\tcreated_at\tlast_login\tsessions"
    assert [line.split("\t")[0::3] for line in lines[1:]] == [
        ["edith@example.com", "2"],
        ["francis@example.com", "1"],
    ]


def test_revoke_ends_the_sessions_and_keeps_the_user(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(database, "edith@example.com", "edith@example.com")

    assert main(["users", "revoke", " Edith@Example.com "]) == EXIT_OK
    assert "ended 2 sessions of edith@example.com" in capsys.readouterr().out
    assert main(["users", "list"]) == EXIT_OK
    assert capsys.readouterr().out.splitlines()[1].endswith("\t0")


def test_delete_removes_the_user_and_their_sessions(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(database, "edith@example.com")

    assert main(["users", "delete", "edith@example.com"]) == EXIT_OK
    assert main(["users", "list"]) == EXIT_OK
    assert capsys.readouterr().out.splitlines()[-1] == "email\tcreated_at\tlast_login\tsessions"


@pytest.mark.parametrize("action", ["revoke", "delete"])
def test_an_unknown_user_is_exit_1_with_a_message(
    database: str, capsys: pytest.CaptureFixture[str], action: str
) -> None:
    assert main(["users", action, "nobody@example.com"]) == EXIT_NO_SUCH_USER
    assert "no user nobody@example.com" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["migrate"], ["users", "list"]])
def test_invalid_settings_are_exit_3_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    monkeypatch.setenv("SIGNET_ENV", "production")
    monkeypatch.setenv("SIGNET_DATABASE_URL", "postgres://x@127.0.0.1/db")
    get_settings.cache_clear()

    assert main(argv) == EXIT_UNUSABLE
    assert "SIGNET_DATABASE_URL: must be sqlite+aiosqlite" in capsys.readouterr().err
    get_settings.cache_clear()


def signet(*argv: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The command in a process of its own, with `environment` and nothing else of ours."""
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *argv],
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"), **environment},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_migrate_and_users_need_only_the_database_url(tmp_path: Path) -> None:
    only_the_database = {"SIGNET_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}"}

    migrated = signet("migrate", environment=only_the_database)
    listed = signet("users", "list", environment=only_the_database)

    assert migrated.returncode == EXIT_OK, migrated.stderr
    assert listed.returncode == EXIT_OK, listed.stderr
    assert listed.stdout == "email\tcreated_at\tlast_login\tsessions\n"


def test_migrate_and_users_are_not_stopped_by_other_settings_gone_wrong(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}"
    wrong_elsewhere = {
        "SIGNET_DATABASE_URL": url,
        "SIGNET_PROVIDERS": "corp",  # no SIGNET_PROVIDER_CORP_* at all
        "SIGNET_PUBLIC_URL": '"https://auth.example.com"',
        "SIGNET_SECRET_KEY": "short",
        "SIGNET_SECRT_KEY": "k" * 32,
    }

    migrated = signet("migrate", environment=wrong_elsewhere)
    listed = signet("users", "list", environment=wrong_elsewhere)
    served = signet("serve", environment=wrong_elsewhere)

    assert migrated.returncode == EXIT_OK, migrated.stderr
    assert listed.returncode == EXIT_OK, listed.stderr
    assert served.returncode == EXIT_UNUSABLE
    assert "SIGNET_SECRET_KEY: " in served.stderr


@pytest.mark.parametrize("argv", [["migrate"], ["users", "list"]])
def test_a_bad_database_url_alone_is_exit_3_in_one_line(argv: list[str]) -> None:
    refused = signet(*argv, environment={"SIGNET_DATABASE_URL": "mysql://x@127.0.0.1/db"})

    assert refused.returncode == EXIT_UNUSABLE
    assert refused.stderr.splitlines() == [
        "signet: invalid settings:",
        "SIGNET_DATABASE_URL: must be sqlite+aiosqlite:///path/to/file.db or "
        "postgresql+asyncpg://user:password@host:port/database",
    ]


def test_serve_with_only_the_database_url_refuses_naming_what_it_needs(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}"

    refused = signet("serve", environment={"SIGNET_DATABASE_URL": url})

    assert refused.returncode == EXIT_UNUSABLE
    for needed in ("SIGNET_SECRET_KEY", "no provider is configured", "SIGNET_PUBLIC_URL"):
        assert needed in refused.stderr


def test_an_unreachable_database_is_exit_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SIGNET_ENV", "development")
    monkeypatch.setenv("SIGNET_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:1/test")
    get_settings.cache_clear()

    assert main(["users", "list"]) == EXIT_UNUSABLE
    assert "is unusable: ConnectionRefusedError" in capsys.readouterr().err
    get_settings.cache_clear()


def test_usage_errors_are_exit_2() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["users", "promote", "edith@example.com"])

    assert exited.value.code == 2


def test_providers_check_says_per_provider_what_is_wrong(
    database: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "k1"}
    for name, value in {
        "SIGNET_PROVIDERS": "corp,other",
        "SIGNET_PUBLIC_URL": "http://localhost:8000",
        "SIGNET_PROVIDER_CORP_KIND": "oidc",
        "SIGNET_PROVIDER_CORP_ISSUER": "https://sso.corp.example",
        "SIGNET_PROVIDER_CORP_CLIENT_ID": "c",
        "SIGNET_PROVIDER_OTHER_KIND": "oidc",
        "SIGNET_PROVIDER_OTHER_ISSUER": "https://other.example",
        "SIGNET_PROVIDER_OTHER_CLIENT_ID": "o",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()

    with respx.mock(assert_all_called=True) as provider:
        provider.get("https://sso.corp.example/.well-known/openid-configuration").respond(
            json={"issuer": "https://sso.corp.example", "jwks_uri": "https://sso.corp.example/k"}
        )
        provider.get("https://sso.corp.example/k").respond(json={"keys": [jwk]})
        provider.get("https://other.example/.well-known/openid-configuration").respond(
            json={"issuer": "https://impostor.example", "jwks_uri": "https://other.example/k"}
        )
        code = main(["providers", "check"])

    lines = capsys.readouterr().out.splitlines()
    assert code == EXIT_PROVIDER_UNUSABLE
    assert lines[0] == f"corp: ok: issuer https://sso.corp.example, 1 signing key; {UNTRUSTED}"
    assert lines[1].startswith("other: UNUSABLE: discovery: issuer 'https://impostor.example'")
    assert lines[1].endswith(UNTRUSTED)


def test_providers_check_lists_verified_users_joined_through_an_untrusted_provider(
    database: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "SIGNET_PROVIDERS": "google,partner",
        "SIGNET_PROVIDER_GOOGLE_CLIENT_ID": "g",
        "SIGNET_PROVIDER_PARTNER_KIND": "oidc",
        "SIGNET_PROVIDER_PARTNER_ISSUER": "https://sso.partner.example",
        "SIGNET_PROVIDER_PARTNER_CLIENT_ID": "p",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    seed(database, "edith@example.com", "francis@example.com", "gina@example.com")
    identities = [("google", "g-1", "edith@example.com"), ("partner", "p-1", "edith@example.com")]
    identities += [("partner", "p-2", "francis@example.com")]
    add_identities(database, identities, unverified={"gina@example.com"})

    with respx.mock(assert_all_called=False) as provider:
        provider.route().respond(503)
        main(["providers", "check"])

    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("; emails trusted (verified unless the provider says otherwise)")
    assert out[1].endswith(UNTRUSTED)
    assert out[2:] == [
        "verified users with an identity of an untrusted provider, to review:",
        f"  edith@example.com: through partner (subject p-1), since {T0:%Y-%m-%d}",
        f"  francis@example.com: through partner (subject p-2), since {T0:%Y-%m-%d}",
    ]


def test_providers_check_greets_the_smtp_server_and_sends_nothing(
    database: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGNET_PROVIDERS", "email")
    monkeypatch.setenv("SIGNET_PUBLIC_URL", "http://localhost:8000")
    monkeypatch.setenv("SIGNET_EMAIL_FROM", "no-reply@example.com")
    with SmtpSink() as sink:
        monkeypatch.setenv("SIGNET_SMTP_URL", f"smtp://127.0.0.1:{sink.port}")
        get_settings.cache_clear()
        answering = main(["providers", "check"])
    monkeypatch.setenv("SIGNET_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    down = main(["providers", "check"])

    lines = capsys.readouterr().out.splitlines()
    assert answering == EXIT_OK
    assert lines[0] == (
        f"email: ok: SMTP server 127.0.0.1:{sink.port} answers, no TLS (loopback); "
        "emails trusted (verified unless the provider says otherwise)"
    )
    assert sink.messages == []
    assert down == EXIT_PROVIDER_UNUSABLE
    assert lines[1].startswith("email: UNUSABLE: SMTPConnectError")


@pytest.mark.parametrize(
    ("argv", "public_url"),
    [
        (["dev", "--port", "9000"], "http://localhost:9000"),
        (["dev", "--host", "0.0.0.0", "--port", "9001"], "http://localhost:9001"),  # noqa: S104
        (["dev", "--host", "::1", "--port", "9002"], "http://localhost:9002"),
    ],
)
def test_signet_dev_serves_where_it_binds_with_one_key_for_every_worker(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, argv: list[str], public_url: str
) -> None:
    for name in ("SIGNET_ENV", "SIGNET_PUBLIC_URL", "SIGNET_SECRET_KEY", "SIGNET_COOKIE_SECURE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SIGNET_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'dev.db'}")
    seen: list[dict[str, str]] = []
    monkeypatch.setattr("uvicorn.run", lambda *_, **__: seen.append(dict(os.environ)))
    get_settings.cache_clear()

    assert main([*argv, "--workers", "2"]) == EXIT_OK

    (environment,) = seen  # what the workers inherit
    assert environment["SIGNET_ENV"] == "development"
    assert environment["SIGNET_PUBLIC_URL"] == public_url
    assert environment["SIGNET_COOKIE_SECURE"] == "false"
    assert len(environment["SIGNET_SECRET_KEY"]) >= 32
    assert "SIGNET_SECRET_KEY" not in os.environ  # exported for the server's lifetime only
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("workers", "says"),
    [(1, "the server signs with a generated key"), (2, "the workers share a generated key")],
)
def test_signet_dev_says_how_its_generated_key_is_used(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    workers: int,
    says: str,
) -> None:
    for name in ("SIGNET_ENV", "SIGNET_PUBLIC_URL", "SIGNET_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SIGNET_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'dev.db'}")
    monkeypatch.setattr("uvicorn.run", lambda *_, **__: None)
    get_settings.cache_clear()

    assert main(["dev", "--workers", str(workers)]) == EXIT_OK

    error = capsys.readouterr().err
    assert f"SIGNET_SECRET_KEY is unset: {says}, and sessions end when the server stops" in error
    assert workers > 1 or "workers" not in error
    get_settings.cache_clear()


def test_signet_serve_without_settings_refuses_naming_each(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("SIGNET_ENV", "SIGNET_SECRET_KEY", "SIGNET_AUDIENCE", "SIGNET_VERIFIER_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("uvicorn.run", lambda *_, **__: pytest.fail("must not serve"))
    get_settings.cache_clear()

    assert main(["serve"]) == EXIT_UNUSABLE

    error = capsys.readouterr().err
    assert all(
        needed in error
        for needed in ("SIGNET_SECRET_KEY", "no provider is configured", "SIGNET_PUBLIC_URL")
    )
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgres://x@127.0.0.1/db", "SIGNET_DATABASE_URL: must be sqlite+aiosqlite"),
        ("postgresql+asyncpg://postgres@127.0.0.1:1/test", "ConnectionRefusedError"),
        ("sqlite+aiosqlite:////no/such/folder/signet.db", "no folder /no/such/folder"),
    ],
)
def test_a_database_that_cannot_be_used_stops_serve_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str, says: str
) -> None:
    monkeypatch.setenv("SIGNET_ENV", "development")
    monkeypatch.setenv("SIGNET_DATABASE_URL", url)
    monkeypatch.setattr("uvicorn.run", lambda *_, **__: pytest.fail("must not serve"))
    get_settings.cache_clear()

    assert main(["serve"]) == EXIT_UNUSABLE

    error = capsys.readouterr().err
    assert says in error
    assert "Traceback" not in error
    get_settings.cache_clear()


def test_one_session_is_said_in_the_singular(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(database, "edith@example.com")

    assert main(["users", "revoke", "edith@example.com"]) == EXIT_OK

    assert capsys.readouterr().out.strip() == "ended 1 session of edith@example.com"


def test_version_names_the_installed_release(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])

    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == f"signet {importlib.metadata.version('signet')}"


def test_signet_dev_keeps_its_own_file_and_leaves_logging_as_it_found_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("SIGNET_ENV", "SIGNET_DATABASE_URL", "SIGNET_PUBLIC_URL", "SIGNET_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    seen: list[dict[str, str]] = []
    monkeypatch.setattr("uvicorn.run", lambda *_, **__: seen.append(dict(os.environ)))
    root_handlers = list(logging.root.handlers)
    get_settings.cache_clear()

    assert main(["dev"]) == EXIT_OK

    assert seen[0]["SIGNET_DATABASE_URL"] == "sqlite+aiosqlite:///./signet-dev.db"
    assert (tmp_path / "signet-dev.db").is_file()  # migrated before serving
    assert not (tmp_path / "signet.db").exists()  # production's default stays untouched
    assert logging.root.handlers == root_handlers  # else every line of Signet's shows twice
    get_settings.cache_clear()
