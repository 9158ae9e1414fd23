"""RFC 9457 problem details: the one shape of every error Signet answers. The problem types
(types.py), the table that maps domain errors to them (table.py), and the responses and
exception handlers (responses.py)."""

from api.web.problems.responses import (
    DATABASE_UNAVAILABLE,
    database_unavailable_response,
    install_problem_handlers,
    internal_error_response,
    problem_response,
    problem_responses,
)
from api.web.problems.table import problem_of
from api.web.problems.types import (
    PROBLEM_MEDIA_TYPE,
    NotAuthenticated,
    Problem,
    ProblemError,
    SchemaOutOfDate,
    UnsupportedMediaType,
)

__all__ = [
    "DATABASE_UNAVAILABLE",
    "PROBLEM_MEDIA_TYPE",
    "NotAuthenticated",
    "Problem",
    "ProblemError",
    "SchemaOutOfDate",
    "UnsupportedMediaType",
    "database_unavailable_response",
    "install_problem_handlers",
    "internal_error_response",
    "problem_of",
    "problem_response",
    "problem_responses",
]
