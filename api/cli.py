"""The `signet` command: migrate, serve, and the few admin actions an operator needs. Each
command reads only the settings it uses: those that touch only the database read
SIGNET_DATABASE_URL (and its pool settings) alone.

Exit codes: 0 done; 1 no such user, invitation or admin key; 2 wrong usage; 3 the settings or
the database are unusable; 4 a provider is unusable (`providers check`); 5 refused by what the
database holds (`invitations create`: a live invitation, or a user, for the email).
"""

import argparse
import asyncio
import importlib.metadata
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.engine import make_url

from api.auth.providers.check import check_providers, untrusted_joins
from api.commands import access, admin, database, server
from api.commands.exits import (
    EXIT_NO_SUCH_USER,
    EXIT_OK,
    EXIT_PROVIDER_UNUSABLE,
    EXIT_UNUSABLE,
    EXIT_USAGE,
)
from api.config import InvalidSettings, Settings, get_database_settings, get_settings
from api.services import open_services
from api.store.db import unusable_database

__all__ = [
    "EXIT_NO_SUCH_USER",
    "EXIT_OK",
    "EXIT_PROVIDER_UNUSABLE",
    "EXIT_UNUSABLE",
    "EXIT_USAGE",
    "main",
]


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    arguments.environment_before = frozenset(os.environ)
    serving = arguments.command in (server.serve, server.dev)
    development = arguments.command is server.dev
    bound = server.bound_environment(arguments, development=development) if serving else {}
    with server.exported(bound):
        return _run(arguments)


def _run(arguments: argparse.Namespace) -> int:
    read: Callable[[], Any] = arguments.reads
    try:
        settings = read()
    except InvalidSettings as error:
        print(f"signet: invalid settings:\n{error}", file=sys.stderr)
        return EXIT_UNUSABLE
    command: Callable[[argparse.Namespace, Any], int] = arguments.command
    try:
        return command(arguments, settings)
    except Exception as error:
        problem = unusable_database(error)
        if problem is None:
            raise
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        print(f"signet: the database at {where} is unusable: {problem}", file=sys.stderr)
        return EXIT_UNUSABLE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="signet",
        description="Signet: turn an identity assertion into a first-party signed session. "
        "Settings come from SIGNET_* environment variables.",
    )
    parser.add_argument("--version", action="version", version=f"signet {_version()}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    migrate = commands.add_parser(
        "migrate", help="bring the database schema up to date (needs SIGNET_DATABASE_URL only)"
    )
    migrate.set_defaults(command=database.migrate, reads=get_database_settings)

    serve = commands.add_parser(
        "serve", help="serve the API with uvicorn (production unless SIGNET_ENV=development)"
    )
    dev = commands.add_parser(
        "dev",
        help="serve a development server: the built-in identity provider, a local SQLite file "
        "migrated on start, plain-HTTP cookies and the demo",
    )
    for command in (serve, dev):
        command.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
        command.add_argument("--port", type=int, default=8000, help="port to bind (8000)")
        command.add_argument("--workers", type=int, default=1, help="worker processes (1)")
    serve.set_defaults(command=server.serve, reads=get_settings)
    dev.set_defaults(command=server.dev, reads=get_settings)

    providers = commands.add_parser("providers", help="check the configured providers")
    provider_actions = providers.add_subparsers(required=True, metavar="ACTION")
    check = provider_actions.add_parser(
        "check", help="fetch each provider's discovery document and keys; exit 4 if any is unusable"
    )
    check.set_defaults(command=_check_providers, reads=get_settings)

    users = commands.add_parser(
        "users",
        help="list users, end their sessions, delete them (needs SIGNET_DATABASE_URL only)",
    )
    actions = users.add_subparsers(required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="every user, with their live session count")
    listing.set_defaults(command=database.users_list, reads=get_database_settings)
    revoke = actions.add_parser("revoke", help="end every session of a user (they stay a user)")
    revoke.add_argument("email")
    revoke.set_defaults(command=database.users_revoke, reads=get_database_settings)
    delete = actions.add_parser("delete", help="delete a user and every session of theirs")
    delete.add_argument("email")
    delete.set_defaults(command=database.users_delete, reads=get_database_settings)
    access.add_commands(commands)
    admin.add_commands(commands)
    return parser


def _version() -> str:
    try:
        return importlib.metadata.version("signet")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout, not installed
        return "unknown"


def _check_providers(_arguments: argparse.Namespace, settings: Settings) -> int:
    async def run() -> int:
        async with open_services(settings) as services:
            verdicts = await check_providers(
                settings,
                client=services.http_client,
                clock=services.clock,
                mailer=services.mailer,
            )
            for verdict in verdicts:
                usable = "ok" if verdict.usable else "UNUSABLE"
                print(f"{verdict.provider}: {usable}: {verdict.detail}", flush=True)
            joins = await untrusted_joins(settings, db_sessions=services.db_sessions)
        if joins:
            print("verified users with an identity of an untrusted provider, to review:")
            print("\n".join(f"  {line}" for line in joins))
        return EXIT_OK if all(verdict.usable for verdict in verdicts) else EXIT_PROVIDER_UNUSABLE

    return asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main())
