"""Bring every stored email to its one canonical spelling (api/auth/emails.py): local part NFC
and lower-cased, domain in Unicode. Users whose emails become one are merged into one user: the
earliest created_at, the latest last_login, verified if any was, with every session and identity
moved to it. There is no way back: downgrading leaves the emails as they are.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import unicodedata
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from email_validator import EmailNotValidError, validate_email

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def canonical(email: str) -> str:
    """As api/auth/emails.py spells it on the day of this migration (kept here as it was)."""
    try:
        validated = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError:
        return email
    return f"{unicodedata.normalize('NFC', validated.local_part.lower())}@{validated.domain}"


def upgrade() -> None:
    connection = op.get_bind()
    users = connection.execute(
        sa.text("SELECT email, created_at, last_login, email_verified FROM users")
    ).all()
    groups: dict[str, list[sa.Row[tuple[str, object, object, bool]]]] = defaultdict(list)
    for user in users:
        groups[canonical(user.email)].append(user)
    for email, spellings in groups.items():
        others = [user.email for user in spellings if user.email != email]
        if not others:
            continue
        merged = {
            "email": email,
            "created_at": min(user.created_at for user in spellings),
            "last_login": max(user.last_login for user in spellings),
            "verified": any(user.email_verified for user in spellings),
        }
        if any(user.email == email for user in spellings):
            connection.execute(
                sa.text(
                    "UPDATE users SET created_at = :created_at, last_login = :last_login,"
                    " email_verified = :verified WHERE email = :email"
                ),
                merged,
            )
        else:
            connection.execute(
                sa.text(
                    "INSERT INTO users (email, created_at, last_login, email_verified)"
                    " VALUES (:email, :created_at, :last_login, :verified)"
                ),
                merged,
            )
        for table in ("sessions", "identities"):
            connection.execute(
                sa.text(f"UPDATE {table} SET email = :email WHERE email IN :others").bindparams(  # noqa: S608 (the table names are ours)
                    sa.bindparam("others", expanding=True)
                ),
                {"email": email, "others": others},
            )
        connection.execute(
            sa.text("DELETE FROM users WHERE email IN :others").bindparams(
                sa.bindparam("others", expanding=True)
            ),
            {"others": others},
        )


def downgrade() -> None:
    pass  # merged users cannot be told apart again; the canonical spellings stay
