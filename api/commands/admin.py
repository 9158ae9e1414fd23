"""`signet admin-keys …` and `signet events`: the admin API's keys, and the audit log. Like every
command that touches only the database they read SIGNET_DATABASE_URL alone: an admin key is kept
as its SHA-256, so neither making nor checking one needs the secret key."""

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime

from api.auth.admin_keys import AdminKeys
from api.auth.emails import InvalidEmail, normalise_email
from api.auth.events import CLI, EVENT_TYPES, TYPE_FILTERS
from api.clock import utcnow
from api.commands.database import with_database
from api.commands.exits import EXIT_NO_SUCH_KEY, EXIT_OK, EXIT_USAGE
from api.config import DatabaseSettings, get_database_settings
from api.database import Database
from api.store.admin_keys import list_admin_keys
from api.store.events import EventPublic, event_public, events_after

MAX_NAME_LENGTH = 64
# What --type takes: a type, or the prefix of some ("user.").
# Events read per query, and how often --follow asks for new ones.
BATCH = 500
FOLLOW_INTERVAL = 0.5


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """`admin-keys` and `events`, beside the other commands of `signet`."""
    keys = commands.add_parser(
        "admin-keys",
        help="create, list and revoke the admin API's keys (needs SIGNET_DATABASE_URL only)",
    )
    actions = keys.add_subparsers(required=True, metavar="ACTION")
    create = actions.add_parser(
        "create", help="make a key named NAME; prints the key, which is shown this once"
    )
    create.add_argument("name")
    listing = actions.add_parser("list", help="every key: id, name, created, last used, revoked")
    revoke = actions.add_parser("revoke", help="revoke a key: it is refused at once")
    revoke.add_argument("id")
    for action, command in ((create, keys_create), (listing, keys_list), (revoke, keys_revoke)):
        action.set_defaults(command=command, reads=get_database_settings)

    events = commands.add_parser(
        "events",
        help="print the audit log, oldest first, one event a line (needs SIGNET_DATABASE_URL only)",
    )
    events.add_argument(
        "--type",
        action="append",
        default=[],
        help="only events of this type, or of types with this prefix (user.); repeatable",
    )
    events.add_argument("--email", help="only events of this user")
    events.add_argument(
        "--follow", action="store_true", help="then keep printing new events until interrupted"
    )
    events.set_defaults(command=events_, reads=get_database_settings)


def _refuse(message: str, code: int = EXIT_USAGE) -> int:
    print(f"signet: {message}", file=sys.stderr)
    return code


def _iso(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")


def _keys(database: Database) -> AdminKeys:
    return AdminKeys(db_sessions=database.db_sessions, clock=utcnow)


def keys_create(arguments: argparse.Namespace, settings: DatabaseSettings) -> int:
    """signet admin-keys create NAME"""
    name = arguments.name.strip()
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        return _refuse(f"a key's name is 1 to {MAX_NAME_LENGTH} printable characters")

    async def action(database: Database) -> int:
        made = await _keys(database).create(name, actor=CLI)
        print(made.key)
        print(
            f"admin key {made.row.id} ({name}): shown this once, kept only as its SHA-256; "
            "send it as Authorization: Bearer <key>",
            file=sys.stderr,
        )
        return EXIT_OK

    return with_database(settings, action)


def keys_list(_arguments: argparse.Namespace, settings: DatabaseSettings) -> int:
    """signet admin-keys list"""

    async def action(database: Database) -> int:
        async with database.db_sessions() as db:
            rows = await list_admin_keys(db=db)
        print("id\tname\tcreated_at\tlast_used\trevoked_at")
        for row in rows:
            print(
                f"{row.id}\t{row.name}\t{_iso(row.created_at)}\t{_iso(row.last_used)}"
                f"\t{_iso(row.revoked_at)}"
            )
        return EXIT_OK

    return with_database(settings, action)


def keys_revoke(arguments: argparse.Namespace, settings: DatabaseSettings) -> int:
    """signet admin-keys revoke ID"""

    async def action(database: Database) -> int:
        revoked = await _keys(database).revoke(arguments.id, actor=CLI)
        if revoked is None:
            return _refuse(f"no live admin key {arguments.id}", EXIT_NO_SUCH_KEY)
        print(f"revoked admin key {revoked.id} ({revoked.name})")
        return EXIT_OK

    return with_database(settings, action)


def event_line(event: EventPublic) -> str:
    """An event as one tab-separated line: id, time, type, email, actor, data as JSON."""
    actor = event.actor.kind if event.actor.id is None else f"{event.actor.kind}:{event.actor.id}"
    data = json.dumps(event.data, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return "\t".join((str(event.id), _iso(event.at), event.type, event.email or "-", actor, data))


def events_(arguments: argparse.Namespace, settings: DatabaseSettings) -> int:
    """signet events [--type T]… [--email E] [--follow]"""
    types: list[str] = arguments.type
    if unknown := [name for name in types if name not in TYPE_FILTERS]:
        return _refuse(
            f"--type {unknown[0]!r}: not an event type, nor a prefix of some such as 'user.' "
            f"(types: {', '.join(EVENT_TYPES)})"
        )
    email: str | None = None
    if arguments.email is not None:
        try:
            email = normalise_email(arguments.email)
        except InvalidEmail:
            return _refuse(f"not an email address: {arguments.email.strip()!r}")

    async def action(database: Database) -> int:
        after = 0
        while True:
            async with database.db_sessions() as db:
                rows = await events_after(db=db, after=after, limit=BATCH, types=types, email=email)
            for row in rows:
                print(event_line(event_public(row)), flush=True)
            if rows:
                after = rows[-1].id or after
            if len(rows) == BATCH:
                continue
            if not arguments.follow:
                return EXIT_OK
            await asyncio.sleep(FOLLOW_INTERVAL)

    try:
        return with_database(settings, action)
    except KeyboardInterrupt:  # how --follow ends
        return EXIT_OK
