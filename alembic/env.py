"""Run migrations over an async engine, against SIGNET_DATABASE_URL unless told otherwise."""

import asyncio
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import api.store.operator_tables
import api.store.passkey_tables  # noqa: F401
from api.config import InvalidSettings, get_database_settings
from api.store.db import create_engine
from api.store.tables import UTCDateTime

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def _render_item(type_: str, item: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Write plain SQLAlchemy types into revisions, not the models' Python-side wrappers.
    if type_ == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(item, AutoString):
        return f"sa.String(length={item.length})"
    return False


def _database_url() -> str:
    # Tests and tools pass a URL explicitly; everyone else migrates the configured database.
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    try:
        return get_database_settings().database_url
    except InvalidSettings as error:
        raise SystemExit(f"signet: refusing to migrate, invalid settings:\n{error}") from None


def run_migrations_offline() -> None:
    context.configure(
        url=_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection, target_metadata=target_metadata, render_item=_render_item
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = create_engine(_database_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_migrations)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
