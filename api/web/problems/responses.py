"""Problem responses: every error Signet answers, as application/problem+json, and the
exception handlers that give them."""

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api.auth.providers.base import DEFAULT_RETRY_AFTER_SECONDS
from api.store.db import is_missing_table
from api.web.problems.table import DOMAIN_PROBLEMS, problem_of, retry_after
from api.web.problems.types import (
    PROBLEM_MEDIA_TYPE,
    PROBLEM_TYPE_BASE,
    Problem,
    ProblemError,
    SchemaOutOfDate,
    ValidationIssue,
    ValidationProblem,
)

logger = logging.getLogger("signet.problems")


def problem_response(problem: Problem, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        problem.model_dump(mode="json"),
        status_code=problem.status,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def _status_problem(status: int, detail: str | None = None) -> Problem:
    phrase = HTTPStatus(status).phrase
    return Problem(title=phrase, status=status, detail=detail or phrase)


def internal_error_response(request_id: str) -> JSONResponse:
    """The 500 for an error nothing else handled: no detail of it, but the request id that
    finds its traceback in the log."""
    problem = _status_problem(500, "Something went wrong on our side.")
    return JSONResponse(
        {**problem.model_dump(mode="json"), "request_id": request_id},
        status_code=500,
        media_type=PROBLEM_MEDIA_TYPE,
    )


async def _problem_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ProblemError)
    return problem_response(error.problem, error.headers)


async def _domain_error(_request: Request, error: Exception) -> JSONResponse:
    problem_and_headers = problem_of(error)
    assert problem_and_headers is not None  # Starlette chose this handler for a mapped class
    return problem_response(*problem_and_headers)


_DATABASE_UNAVAILABLE_PROBLEM = Problem(
    type=PROBLEM_TYPE_BASE + "database-unavailable",
    title="Service unavailable",
    status=503,
    detail="The service cannot reach its database; try again shortly.",
)


def database_unavailable_response(error: Exception) -> JSONResponse:
    """The 503 for a database that is down (logged by the error's type only), or not migrated."""
    headers = retry_after(DEFAULT_RETRY_AFTER_SECONDS)
    if is_missing_table(error):
        logger.error("database not migrated (a table is missing): run signet migrate")
        return problem_response(SchemaOutOfDate(None).problem, headers)
    logger.error("database unavailable: %s", type(error).__name__)
    return problem_response(_DATABASE_UNAVAILABLE_PROBLEM, headers)


async def _database_unavailable(_request: Request, error: Exception) -> JSONResponse:
    return database_unavailable_response(error)


async def _programming_error(_request: Request, error: Exception) -> JSONResponse:
    if is_missing_table(error):
        return database_unavailable_response(error)
    raise error  # a bug: the 500 with its request id


# What a database that is down or unreachable raises, through SQLAlchemy or around it.
DATABASE_UNAVAILABLE = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
    ConnectionError,
    TimeoutError,
)


async def _http_exception(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    detail = error.detail if isinstance(error.detail, str) else None
    headers = error.headers
    if error.status_code == 405:
        headers = {**(headers or {}), "Allow": ", ".join(_allowed_methods(request))}
    return problem_response(_status_problem(error.status_code, detail), headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route answers at this path (Starlette names only the first route's,
    and GET and POST /auth/email/verify are two routes)."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    ]


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    issues = [
        ValidationIssue(loc=list(issue["loc"]), msg=issue["msg"], type=issue["type"])
        for issue in error.errors()
    ]
    problem = ValidationProblem(
        type=PROBLEM_TYPE_BASE + "invalid-request",
        title="Invalid request",
        status=422,
        detail="The request does not have the documented shape.",
        errors=issues,
    )
    return problem_response(problem)


async def _unexpected(_request: Request, error: Exception) -> JSONResponse:
    logger.exception("unhandled error", exc_info=error)
    return problem_response(_status_problem(500, "Something went wrong on our side."))


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error as application/problem+json."""
    app.add_exception_handler(ProblemError, _problem_error)
    for domain_error in DOMAIN_PROBLEMS:
        app.add_exception_handler(domain_error, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    for error in DATABASE_UNAVAILABLE:
        app.add_exception_handler(error, _database_unavailable)
    app.add_exception_handler(sqlalchemy.exc.ProgrammingError, _programming_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` documenting these error statuses with the problem schema."""
    return {
        status: {
            "model": ValidationProblem if status == 422 else Problem,
            "description": HTTPStatus(status).phrase,
        }
        for status in statuses
    }
