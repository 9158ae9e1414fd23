"""Reading the settings from the environment, and saying what is wrong with it: all of them for
the service, or only the database's for the commands that touch nothing else."""

import logging
import os
from functools import lru_cache
from typing import Any, TypeVar

from pydantic import ValidationError

from api.config.base import SettingsBase
from api.config.database import DatabaseSettings
from api.config.settings import Settings
from api.environment import (
    PROVIDER_PREFIX,
    WEBHOOK_PREFIX,
    EnvironmentReport,
    check_environment,
)

logger = logging.getLogger("signet.config")

KNOWN_VARIABLES = frozenset(f"SIGNET_{name.upper()}" for name in Settings.model_fields)

AnySettings = TypeVar("AnySettings", bound=SettingsBase)


class InvalidSettings(Exception):
    """The environment does not describe a service that may start."""


def describe_errors(error: ValidationError) -> str:
    """One line per problem, named by its environment variable."""
    lines = []
    for problem in error.errors(include_url=False, include_input=False):
        field = str(problem["loc"][0]) if problem["loc"] else ""
        message = problem["msg"].removeprefix("Value error, ")
        # Messages about the settings as a whole name their variables themselves.
        lines.append(f"SIGNET_{field.upper()}: {message}" if field else message)
    return "\n".join(lines)


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read from the environment once; mistaken variable names stop a
    production start and are warnings in development."""
    return _read(Settings)


def get_database_settings() -> DatabaseSettings:
    """The database's settings alone, for commands that touch nothing else (migrate, users, and
    the operator commands to come): the service's other variables may be unset, or even wrong."""
    return _read(DatabaseSettings)


def _read(kind: type[AnySettings]) -> AnySettings:
    production = os.environ.get("SIGNET_ENV", "production").strip() != "development"
    reads = frozenset(f"SIGNET_{name.upper()}" for name in kind.model_fields)
    report = check_environment(
        os.environ, known=KNOWN_VARIABLES, production=production, reads=reads
    )
    for warning in report.warnings:
        logger.warning("%s", warning)
    problems = list(report.errors)
    try:
        settings = kind(**_as_meant(report, fields=kind.model_fields.keys()))
    except ValidationError as error:
        problems.append(describe_errors(error))
    if problems:
        raise InvalidSettings("\n".join(problems))
    return settings


def _as_meant(report: EnvironmentReport, *, fields: Any) -> dict[str, Any]:
    """The refused values as they were meant, by field: checked so, the settings report only
    what else is wrong, not what the refused values break."""
    meant: dict[str, Any] = {}
    for name, value in report.bare_values.items():
        field = name.upper().removeprefix("SIGNET_").lower()
        if field in fields:
            meant[field] = value
    for setting, prefix in (
        ("provider_variables", PROVIDER_PREFIX),
        ("webhook_variables", WEBHOOK_PREFIX),
    ):
        if setting in fields and any(
            name.upper().startswith(prefix) for name in report.bare_values
        ):
            meant[setting] = {
                name: report.bare_values.get(name, value)
                for name, value in os.environ.items()
                if name.upper().startswith(prefix)
            }
    return meant
