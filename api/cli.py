"""The `signet` command: migrate, serve, and the few admin actions an operator needs.

Exit codes: 0 done; 1 no such user; 2 wrong usage; 3 the settings or the database are unusable;
4 a provider is unusable (`providers check`).
"""

import argparse
import asyncio
import importlib.metadata
import logging
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from api.auth.emails import InvalidEmail, normalise_email
from api.auth.providers.check import check_providers
from api.config import InvalidSettings, Settings, get_settings
from api.observability.metrics import MULTIPROCESS_DIRECTORY
from api.services import Services, open_services
from api.store.db import create_engine, unusable_database
from api.store.users import get_user, list_users

EXIT_OK, EXIT_NO_SUCH_USER, EXIT_USAGE, EXIT_UNUSABLE, EXIT_PROVIDER_UNUSABLE = 0, 1, 2, 3, 4


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    arguments.environment_before = frozenset(os.environ)
    serving = arguments.command in (_serve, _dev)
    bound = _bound_environment(arguments, development=arguments.command is _dev) if serving else {}
    with _exported(bound):
        return _run(arguments)


def _run(arguments: argparse.Namespace) -> int:
    try:
        settings = get_settings()
    except InvalidSettings as error:
        print(f"signet: invalid settings:\n{error}", file=sys.stderr)
        return EXIT_UNUSABLE
    command: Callable[[argparse.Namespace, Settings], int] = arguments.command
    if (
        command in (_serve, _dev)
        and settings.is_development
        and "SIGNET_SECRET_KEY" not in (arguments.environment_before)
    ):
        print(
            "signet: SIGNET_SECRET_KEY is unset: the workers share a generated key, and sessions "
            "end when the server stops",
            file=sys.stderr,
        )
    try:
        if command in (_serve, _dev):
            asyncio.run(_reach_database(settings))
        return command(arguments, settings)
    except Exception as error:
        problem = unusable_database(error)
        if problem is None:
            raise
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        print(f"signet: the database at {where} is unusable: {problem}", file=sys.stderr)
        return EXIT_UNUSABLE


async def _reach_database(settings: Settings) -> None:
    """Connect once before serving, so that a database out of reach is one line at start,
    not a traceback from every worker."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        folder = Path(url.database).parent
        if not folder.is_dir():  # asked here: aiosqlite's thread would report it after we left
            raise FileNotFoundError(f"no folder {folder} for the SQLite file")
    engine = create_engine(settings.database_url, connect_timeout=settings.database_connect_timeout)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="signet",
        description="Signet: turn an identity assertion into a first-party signed session. "
        "Settings come from SIGNET_* environment variables.",
    )
    parser.add_argument("--version", action="version", version=f"signet {_version()}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.set_defaults(command=_migrate)

    serve = commands.add_parser(
        "serve", help="serve the API with uvicorn (production unless SIGNET_ENV=development)"
    )
    dev = commands.add_parser(
        "dev",
        help="serve a development server: the built-in identity provider, a local SQLite file "
        "migrated on start, plain-HTTP cookies and the demo",
    )
    for server in (serve, dev):
        server.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
        server.add_argument("--port", type=int, default=8000, help="port to bind (8000)")
        server.add_argument("--workers", type=int, default=1, help="worker processes (1)")
    serve.set_defaults(command=_serve)
    dev.set_defaults(command=_dev)

    providers = commands.add_parser("providers", help="check the configured providers")
    provider_actions = providers.add_subparsers(required=True, metavar="ACTION")
    check = provider_actions.add_parser(
        "check", help="fetch each provider's discovery document and keys; exit 4 if any is unusable"
    )
    check.set_defaults(command=_check_providers)

    users = commands.add_parser("users", help="list users, end their sessions, delete them")
    actions = users.add_subparsers(required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="every user, with their live session count")
    listing.set_defaults(command=_list_users)
    revoke = actions.add_parser("revoke", help="end every session of a user (they stay a user)")
    revoke.add_argument("email")
    revoke.set_defaults(command=_revoke)
    delete = actions.add_parser("delete", help="delete a user and every session of theirs")
    delete.add_argument("email")
    delete.set_defaults(command=_delete)
    return parser


def _migrate(_arguments: argparse.Namespace, settings: Settings) -> int:
    from alembic import command
    from alembic.config import Config

    config_file = _alembic_ini()
    if config_file is None:
        print("signet: alembic.ini not found beside the api package or here", file=sys.stderr)
        return EXIT_UNUSABLE
    config = Config(config_file)
    config.set_main_option("sqlalchemy.url", settings.database_url)
    # Alembic's own logging setup would give the root logger a handler that stays for the
    # server `signet dev` starts next, and every line of Signet's would be printed twice.
    config.attributes["configure_logging"] = False
    progress = logging.StreamHandler()
    progress.setFormatter(logging.Formatter("%(levelname)-5.5s [%(name)s] %(message)s"))
    alembic_logger = logging.getLogger("alembic")
    alembic_logger.addHandler(progress)
    alembic_logger.setLevel(logging.INFO)
    try:
        command.upgrade(config, "head")
    finally:
        alembic_logger.removeHandler(progress)
    return EXIT_OK


def _version() -> str:
    try:
        return importlib.metadata.version("signet")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout, not installed
        return "unknown"


def _alembic_ini() -> Path | None:
    # Beside the package in a checkout, inside it when installed from a wheel; else here.
    package = Path(__file__).resolve().parent
    for folder in (package.parent, package / "migrations", Path.cwd()):
        if (folder / "alembic.ini").is_file():
            return folder / "alembic.ini"
    return None


def _bound_environment(arguments: argparse.Namespace, *, development: bool) -> dict[str, str]:
    """What a development server takes from how it was started, to export before the settings
    are read so that every worker reads the same: its URLs follow the address and port it binds
    (never a request's Host header), and its workers share one generated secret key."""
    bound = {"SIGNET_ENV": "development"} if development else {}
    if development and "SIGNET_COOKIE_SECURE" not in os.environ:
        bound["SIGNET_COOKIE_SECURE"] = "false"
    if development and "SIGNET_DATABASE_URL" not in os.environ:
        # Not production's default file: a production start must never find development's users.
        bound["SIGNET_DATABASE_URL"] = "sqlite+aiosqlite:///./signet-dev.db"
    if {**os.environ, **bound}.get("SIGNET_ENV", "production").strip() != "development":
        return bound
    # Bound to every interface: the URLs name this machine as it names itself.
    wildcard = arguments.host in ("0.0.0.0", "::", "")  # noqa: S104
    host = "127.0.0.1" if wildcard else arguments.host
    host = f"[{host}]" if ":" in host else host
    if "SIGNET_PUBLIC_URL" not in os.environ:
        bound["SIGNET_PUBLIC_URL"] = f"http://{host}:{arguments.port}"
    if "SIGNET_SECRET_KEY" not in os.environ:
        bound["SIGNET_SECRET_KEY"] = secrets.token_urlsafe(32)
    return bound


@contextmanager
def _exported(variables: dict[str, str]) -> Iterator[None]:
    """`variables` in the environment (which worker processes inherit) until the command ends."""
    before = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _dev(arguments: argparse.Namespace, settings: Settings) -> int:
    migrated = _migrate(arguments, settings)
    if migrated != EXIT_OK:
        return migrated
    return _serve(arguments, settings)


def _serve(arguments: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from api.web.http_protocol import GuardedHttpToolsProtocol

    with _metrics_of_all_workers(settings.metrics and arguments.workers > 1):
        uvicorn.run(
            "api.app:create_app",
            factory=True,
            host=arguments.host,
            port=arguments.port,
            workers=arguments.workers,
            # httptools, with request heads bounded in size and time (uvicorn bounds neither).
            http=GuardedHttpToolsProtocol,
            # Signet reads X-Forwarded-For itself, from SIGNET_TRUSTED_PROXIES only.
            proxy_headers=False,
            server_header=False,
            access_log=False,  # Signet logs each request itself, with its request id
        )
    return EXIT_OK


@contextmanager
def _metrics_of_all_workers(several_workers: bool) -> Iterator[None]:
    """With several workers, have them share a directory for their metrics, so that /metrics on
    any of them answers the totals of all (prometheus_client's multiprocess mode).

    The directory is the operator's PROMETHEUS_MULTIPROC_DIR if set (used as found: clearing it
    between runs is theirs to do); else a new private one (mkdtemp: empty, mode 0700), removed
    when the server stops. Exported before uvicorn spawns the workers, which inherit it: it must
    be set before prometheus_client is imported.
    """
    if not several_workers or MULTIPROCESS_DIRECTORY in os.environ:
        yield
        return
    directory = tempfile.mkdtemp(prefix="signet-metrics-")
    os.environ[MULTIPROCESS_DIRECTORY] = directory
    try:
        yield
    finally:
        del os.environ[MULTIPROCESS_DIRECTORY]
        shutil.rmtree(directory, ignore_errors=True)


def _with_services(settings: Settings, action: Callable[[Services], Awaitable[int]]) -> int:
    async def run() -> int:
        async with open_services(settings) as services:
            return await action(services)

    return asyncio.run(run())


def _check_providers(_arguments: argparse.Namespace, settings: Settings) -> int:
    async def action(services: Services) -> int:
        verdicts = await check_providers(
            settings, client=services.http_client, clock=services.clock, mailer=services.mailer
        )
        for verdict in verdicts:
            print(f"{verdict.provider}: {'ok' if verdict.usable else 'UNUSABLE'}: {verdict.detail}")
        return EXIT_OK if all(verdict.usable for verdict in verdicts) else EXIT_PROVIDER_UNUSABLE

    return _with_services(settings, action)


def _list_users(_arguments: argparse.Namespace, settings: Settings) -> int:
    async def action(services: Services) -> int:
        async with services.db_sessions() as db:
            users = await list_users(db=db)
        print("email\tcreated_at\tlast_login\tsessions")
        for user in users:
            print(
                f"{user.email}\t{user.created_at.isoformat()}\t{user.last_login.isoformat()}"
                f"\t{user.sessions}"
            )
        return EXIT_OK

    return _with_services(settings, action)


async def _existing_user(services: Services, email: str) -> str | None:
    """The user's normalised email if they exist; else says so and returns None."""
    try:
        email = normalise_email(email)
    except InvalidEmail:
        pass
    else:
        async with services.db_sessions() as db:
            if await get_user(db=db, email=email) is not None:
                return email
    print(f"signet: no user {email}", file=sys.stderr)
    return None


def _revoke(arguments: argparse.Namespace, settings: Settings) -> int:
    async def action(services: Services) -> int:
        email = await _existing_user(services, arguments.email)
        if email is None:
            return EXIT_NO_SUCH_USER
        ended = await services.auth.sign_out_everywhere(email)
        # Every worker and host hears of it at once (see auth/revocations.py).
        print(f"ended {_count(ended, 'session')} of {email}")
        return EXIT_OK

    return _with_services(settings, action)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _delete(arguments: argparse.Namespace, settings: Settings) -> int:
    async def action(services: Services) -> int:
        email = await _existing_user(services, arguments.email)
        if email is None:
            return EXIT_NO_SUCH_USER
        await services.auth.delete_user(email)
        print(f"deleted {email} and their sessions")
        return EXIT_OK

    return _with_services(settings, action)


if __name__ == "__main__":
    sys.exit(main())
