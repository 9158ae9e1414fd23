"""The commands that touch only the database: `signet migrate` and `signet users …`. They read
the database's settings alone (SIGNET_DATABASE_URL), so that a migration job or an operator's
shell needs neither the secret key nor a provider's secrets."""

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from api.auth.emails import InvalidEmail, normalise_email
from api.auth.events import ADMIN, CLI
from api.clock import utcnow
from api.commands.exits import EXIT_NO_SUCH_USER, EXIT_OK, EXIT_UNUSABLE
from api.config import DatabaseSettings
from api.database import Database, open_database
from api.store.users import get_user, list_users


def migrate(_arguments: argparse.Namespace, settings: DatabaseSettings) -> int:
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


def _alembic_ini() -> Path | None:
    # Beside the package in a checkout, inside it when installed from a wheel; else here.
    package = Path(__file__).resolve().parent.parent
    for folder in (package.parent, package / "migrations", Path.cwd()):
        if (folder / "alembic.ini").is_file():
            return folder / "alembic.ini"
    return None


def with_database(settings: DatabaseSettings, action: Callable[[Database], Awaitable[int]]) -> int:
    async def run() -> int:
        async with open_database(settings) as database:
            return await action(database)

    return asyncio.run(run())


def users_list(_arguments: argparse.Namespace, settings: DatabaseSettings) -> int:
    async def action(database: Database) -> int:
        async with database.db_sessions() as db:
            users = await list_users(db=db)
        print("email\tcreated_at\tlast_login\tsessions")
        for user in users:
            print(
                f"{user.email}\t{user.created_at.isoformat()}\t{user.last_login.isoformat()}"
                f"\t{user.sessions}"
            )
        return EXIT_OK

    return with_database(settings, action)


async def _existing_user(database: Database, email: str) -> str | None:
    """The user's normalised email if they exist; else says so and returns None."""
    try:
        email = normalise_email(email)
    except InvalidEmail:
        pass
    else:
        async with database.db_sessions() as db:
            if await get_user(db=db, email=email) is not None:
                return email
    print(f"signet: no user {email}", file=sys.stderr)
    return None


def users_revoke(arguments: argparse.Namespace, settings: DatabaseSettings) -> int:
    async def action(database: Database) -> int:
        email = await _existing_user(database, arguments.email)
        if email is None:
            return EXIT_NO_SUCH_USER
        ended = await database.sessions.revoke_user(email, at=utcnow(), actor=CLI, reason=ADMIN)
        # Every worker and host hears of it at once (see auth/revocations.py).
        print(f"ended {_count(ended, 'session')} of {email}")
        return EXIT_OK

    return with_database(settings, action)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def users_delete(arguments: argparse.Namespace, settings: DatabaseSettings) -> int:
    async def action(database: Database) -> int:
        email = await _existing_user(database, arguments.email)
        if email is None:
            return EXIT_NO_SUCH_USER
        await database.sessions.delete_user(email, at=utcnow(), actor=CLI)
        print(f"deleted {email} and their sessions")
        return EXIT_OK

    return with_database(settings, action)
