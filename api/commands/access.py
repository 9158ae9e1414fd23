"""`signet invitations …` and `signet groups …`: who may come in, and with which groups. Like
`signet users …` they read SIGNET_DATABASE_URL alone; a change of a user's groups reaches the
session cache of every running server at once, as a revocation does (Sessions.change_user)."""

import argparse
import sys
from datetime import UTC, datetime

from api.auth.emails import InvalidEmail, normalise_email
from api.auth.events import CLI
from api.auth.group_changes import change_groups
from api.auth.groups import InvalidDuration, InvalidGroup, check_groups, parse_duration
from api.auth.invitation_changes import InvitationNotLive, invite, revoke
from api.clock import utcnow
from api.commands.database import with_database
from api.commands.exits import (
    EXIT_NO_SUCH_INVITATION,
    EXIT_NO_SUCH_USER,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
)
from api.config import DatabaseSettings, get_database_settings
from api.database import Database
from api.store.groups import (
    list_groups,
)
from api.store.invitations import (
    AlreadyAUser,
    LiveInvitationExists,
    invitation_state,
    list_invitations,
)
from api.store.users import get_user


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """`invitations` and `groups`, beside the other commands of `signet`."""
    invitations = commands.add_parser(
        "invitations",
        help="invite an email, with groups; list and revoke invitations "
        "(needs SIGNET_DATABASE_URL only)",
    )
    actions = invitations.add_subparsers(required=True, metavar="ACTION")
    create = actions.add_parser(
        "create", help="invite EMAIL to sign in for the first time; prints the id and expiry"
    )
    create.add_argument("email")
    create.add_argument(
        "--group", action="append", default=[], help="a group the user gets (repeatable)"
    )
    create.add_argument(
        "--expires", default="7d", help="how long it may be used: a number with s, m, h or d (7d)"
    )
    listing = actions.add_parser("list", help="every invitation: id, email, groups, state, expiry")
    revoke = actions.add_parser("revoke", help="revoke a live invitation")
    revoke.add_argument("id")
    for action, command in ((create, create_), (listing, list_), (revoke, revoke_)):
        action.set_defaults(command=command, reads=get_database_settings)

    groups = commands.add_parser(
        "groups", help="add, remove and list users' groups (needs SIGNET_DATABASE_URL only)"
    )
    actions = groups.add_subparsers(required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a user to groups, by hand")
    remove = actions.add_parser(
        "remove", help="remove a user from groups given by hand or by invitation"
    )
    for action in (add, remove):
        action.add_argument("email")
        action.add_argument("group", nargs="+")
    group_listing = actions.add_parser("list", help="every user's groups (or one's): with sources")
    group_listing.add_argument("email", nargs="?")
    for action, command in ((add, add_), (remove, remove_), (group_listing, groups_list)):
        action.set_defaults(command=command, reads=get_database_settings)


def _refuse(message: str, code: int = EXIT_USAGE) -> int:
    print(f"signet: {message}", file=sys.stderr)
    return code


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _bad_email(text: str) -> str:
    return f"not an email address: {text.strip()!r}"


def _bad_group(error: InvalidGroup) -> str:
    return (
        f"not a group name: {str(error)!r} (lower-case letters, digits, '.', '_' and '-', "
        "from a letter or digit, up to 64)"
    )


def create_(arguments: argparse.Namespace, settings: DatabaseSettings) -> int:
    """signet invitations create EMAIL [--group G]… [--expires 7d]"""
    try:
        email = normalise_email(arguments.email)
    except InvalidEmail:
        return _refuse(_bad_email(arguments.email))
    try:
        groups = check_groups(arguments.group)
    except InvalidGroup as error:
        return _refuse(_bad_group(error))
    try:
        lifetime = parse_duration(arguments.expires)
    except InvalidDuration:
        return _refuse(
            f"--expires {arguments.expires!r}: not a positive number with s, m, h or d, as 7d"
        )

    async def action(database: Database) -> int:
        try:
            invitation = await invite(
                database.db_sessions,
                email=email,
                groups=groups,
                lifetime=lifetime,
                at=utcnow(),
                actor=CLI,
            )
        except LiveInvitationExists as live:
            return _refuse(
                f"{email} has a live invitation already: {live.invitation_id} "
                "(revoke it first to invite again)",
                EXIT_REFUSED,
            )
        except AlreadyAUser:
            return _refuse(f"{email} is a user already: no invitation needed", EXIT_REFUSED)
        print(f"{invitation.id}\t{_iso(invitation.expires_at)}")
        return EXIT_OK

    return with_database(settings, action)


def list_(_arguments: argparse.Namespace, settings: DatabaseSettings) -> int:
    """signet invitations list"""

    async def action(database: Database) -> int:
        async with database.db_sessions() as db:
            invitations = await list_invitations(db=db)
        now = utcnow()
        print("id\temail\tgroups\tstate\texpires_at")
        for invitation in invitations:
            state = invitation_state(invitation, now)
            print(
                f"{invitation.id}\t{invitation.email}\t{invitation.groups}\t{state}"
                f"\t{_iso(invitation.expires_at)}"
            )
        return EXIT_OK

    return with_database(settings, action)


def revoke_(arguments: argparse.Namespace, settings: DatabaseSettings) -> int:
    """signet invitations revoke ID"""

    async def action(database: Database) -> int:
        try:
            invitation = await revoke(database.db_sessions, arguments.id, at=utcnow(), actor=CLI)
        except InvitationNotLive as not_live:
            return _refuse(
                f"invitation {arguments.id} is {not_live}, not live", EXIT_NO_SUCH_INVITATION
            )
        if invitation is None:
            return _refuse(f"no invitation {arguments.id}", EXIT_NO_SUCH_INVITATION)
        print(f"revoked invitation {invitation.id} of {invitation.email}")
        return EXIT_OK

    return with_database(settings, action)


def _email_and_groups(arguments: argparse.Namespace) -> tuple[str, list[str]] | str:
    """The canonical email and the checked group names; or what is wrong with them."""
    try:
        email = normalise_email(arguments.email)
    except InvalidEmail:
        return _bad_email(arguments.email)
    try:
        return email, check_groups(arguments.group)
    except InvalidGroup as error:
        return _bad_group(error)


def add_(arguments: argparse.Namespace, settings: DatabaseSettings) -> int:
    """signet groups add EMAIL GROUP…"""
    checked = _email_and_groups(arguments)
    if isinstance(checked, str):
        return _refuse(checked)
    email, groups = checked

    async def action(database: Database) -> int:
        changed = await change_groups(database.sessions, email, at=utcnow(), actor=CLI, add=groups)
        if changed is None:
            return _refuse(f"no user {email}", EXIT_NO_SUCH_USER)
        added = changed.added
        if added:
            print(f"added {', '.join(added)} to {email}")
        if had := sorted(set(groups) - set(added)):
            print(f"{email} was in {', '.join(had)} already")
        return EXIT_OK

    return with_database(settings, action)


def remove_(arguments: argparse.Namespace, settings: DatabaseSettings) -> int:
    """signet groups remove EMAIL GROUP…: the rows given by hand or by invitation; a provider's
    stay until a sign-in through it says otherwise."""
    checked = _email_and_groups(arguments)
    if isinstance(checked, str):
        return _refuse(checked)
    email, groups = checked

    async def action(database: Database) -> int:
        changed = await change_groups(
            database.sessions, email, at=utcnow(), actor=CLI, remove=groups
        )
        if changed is None:
            return _refuse(f"no user {email}", EXIT_NO_SUCH_USER)
        removed, kept = changed.removed, changed.kept
        if removed:
            print(f"removed {', '.join(removed)} from {email}")
        for row in kept:
            print(f"{email} stays in {row.name}: it comes from {row.source}")
        if absent := sorted(set(groups) - set(removed) - {row.name for row in kept}):
            print(f"{email} was not in {', '.join(absent)}")
        return EXIT_OK

    return with_database(settings, action)


def groups_list(arguments: argparse.Namespace, settings: DatabaseSettings) -> int:
    """signet groups list [EMAIL]"""
    email: str | None = None
    if arguments.email is not None:
        try:
            email = normalise_email(arguments.email)
        except InvalidEmail:
            return _refuse(_bad_email(arguments.email))

    async def action(database: Database) -> int:
        async with database.db_sessions() as db:
            if email is not None and await get_user(db=db, email=email) is None:
                return _refuse(f"no user {email}", EXIT_NO_SUCH_USER)
            rows = await list_groups(db=db, email=email)
        print("email\tgroup\tsource")
        for row in rows:
            print(f"{row.email}\t{row.name}\t{row.source}")
        return EXIT_OK

    return with_database(settings, action)
