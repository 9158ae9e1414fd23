"""The database's settings: all that the commands which touch only the database read
(`signet migrate`, `signet users …`), so that they run without the service's secrets."""

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from api.config.base import SettingsBase


class DatabaseSettings(SettingsBase):
    """SIGNET_DATABASE_*: where the database is, and how it is pooled."""

    database_url: str = "sqlite+aiosqlite:///./signet.db"
    database_pool_size: Annotated[int, Field(ge=1, le=100)] = 5
    database_max_overflow: Annotated[int, Field(ge=0, le=100)] = 10
    # Seconds to wait for a pooled connection, and to connect: a down database is a quick 503.
    database_pool_timeout: Annotated[float, Field(gt=0, le=60)] = 5.0
    database_connect_timeout: Annotated[float, Field(gt=0, le=60)] = 5.0

    @field_validator("database_url")
    @classmethod
    def _database_url_is_supported(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError("is not a database URL") from None
        if url.drivername not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
            raise ValueError(
                "must be sqlite+aiosqlite:///path/to/file.db or "
                "postgresql+asyncpg://user:password@host:port/database"
            )
        if url.drivername.startswith("sqlite") and url.database not in (None, "", ":memory:"):
            # Resolved once, so every worker and command means the same file wherever it runs.
            url = url.set(database=str(Path(url.database).expanduser().resolve()))
        return url.render_as_string(hide_password=False)
