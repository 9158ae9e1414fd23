"""Settings, read once from `SIGNET_*` environment variables and validated at start-up: one
module per concern (database, core, sessions, access, providers, mail, limits), composed into
`Settings` by settings.py."""

from api.config.database import DatabaseSettings
from api.config.reading import (
    InvalidSettings,
    describe_errors,
    get_database_settings,
    get_settings,
)
from api.config.settings import Settings

__all__ = [
    "DatabaseSettings",
    "InvalidSettings",
    "Settings",
    "describe_errors",
    "get_database_settings",
    "get_settings",
]
