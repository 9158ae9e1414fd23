"""Reading the settings from the environment once, and saying what is wrong with it."""

import logging
import os
from functools import lru_cache

from pydantic import ValidationError

from api.config.settings import Settings
from api.environment import check_environment

logger = logging.getLogger("signet.config")

KNOWN_VARIABLES = frozenset(f"SIGNET_{name.upper()}" for name in Settings.model_fields)


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
    production = os.environ.get("SIGNET_ENV", "production").strip() != "development"
    report = check_environment(os.environ, known=KNOWN_VARIABLES, production=production)
    for warning in report.warnings:
        logger.warning("%s", warning)
    problems = list(report.errors)
    try:
        settings = Settings()
    except ValidationError as error:
        problems.append(describe_errors(error))
    if problems:
        raise InvalidSettings("\n".join(problems))
    return settings
