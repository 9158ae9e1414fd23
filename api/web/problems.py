"""RFC 9457 problem details: the one shape of every error Signet answers."""

import logging
import math
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api.auth.accounts import AccountExists, LastIdentity, NoSuchIdentity
from api.auth.email_codes import CodeRejected
from api.auth.flows import FlowRefused, InvalidReturnTo
from api.auth.providers.base import (
    DEFAULT_RETRY_AFTER_SECONDS,
    AssertionRejected,
    VerifierUnavailable,
)
from api.auth.providers.registry import (
    NoRedirectFlow,
    ProviderRequired,
    TakesNoAssertions,
    UnknownProvider,
)
from api.auth.rate_limit import TooManyRequests
from api.auth.sessions import NoSuchSession
from api.mail.mailer import MailUnavailable
from api.store.db import is_missing_table

logger = logging.getLogger("signet.problems")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:signet:problem:"


class Problem(BaseModel):
    """An RFC 9457 problem."""

    type: str = Field(default="about:blank", examples=["urn:signet:problem:not-authenticated"])
    title: str = Field(examples=["Not authenticated"])
    status: int = Field(examples=[401])
    detail: str = Field(examples=["Sign in first."])


class ValidationIssue(BaseModel):
    """One thing wrong with the request; the offending value is never echoed."""

    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(Problem):
    """A request whose shape is wrong, with each validation error."""

    errors: list[ValidationIssue]


class ProblemError(Exception):
    """An error Signet means to answer with a problem response."""

    def __init__(
        self,
        status: int,
        *,
        slug: str,
        title: str,
        detail: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.problem = Problem(
            type=PROBLEM_TYPE_BASE + slug, title=title, status=status, detail=detail
        )
        self.headers = headers


class NotAuthenticated(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            401,
            slug="not-authenticated",
            title="Not authenticated",
            detail="There is no valid session; sign in first.",
        )


class SchemaOutOfDate(ProblemError):
    def __init__(self, revision: str | None) -> None:
        found = f"at migration {revision}" if revision else "not migrated"
        super().__init__(
            503,
            slug="schema-out-of-date",
            title="Database schema out of date",
            detail=f"The database is {found}; run signet migrate.",
        )


class UnsupportedMediaType(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            415,
            slug="unsupported-media-type",
            title="Unsupported media type",
            detail="Send the request body as application/json.",
        )


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


def _retry_after(seconds: float) -> dict[str, str]:
    # Rounded up: a client that waits as long as it is told is never early.
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


# The domain's errors, each with its problem and the headers it adds.
_DOMAIN_PROBLEMS: dict[type[Exception], tuple[Problem, Callable[[Any], dict[str, str]]]] = {
    AssertionRejected: (
        Problem(
            type=PROBLEM_TYPE_BASE + "assertion-rejected",
            title="Assertion rejected",
            status=401,
            detail="The identity provider did not vouch for this assertion.",
        ),
        lambda _error: {},
    ),
    CodeRejected: (
        Problem(
            type=PROBLEM_TYPE_BASE + "code-rejected",
            title="Code rejected",
            status=401,
            detail="This code or link is wrong, has expired or was used already; ask for a new "
            "one.",
        ),
        lambda _error: {},
    ),
    MailUnavailable: (
        Problem(
            type=PROBLEM_TYPE_BASE + "mail-unavailable",
            title="Email not sent",
            status=503,
            detail="The message could not be sent (the mail server did not take it); try again "
            "shortly.",
        ),
        lambda _error: _retry_after(DEFAULT_RETRY_AFTER_SECONDS),
    ),
    TakesNoAssertions: (
        Problem(
            type=PROBLEM_TYPE_BASE + "takes-no-assertions",
            title="Provider takes no assertions",
            status=400,
            detail="This provider signs in with codes sent by email: POST /auth/email/start.",
        ),
        lambda _error: {},
    ),
    TooManyRequests: (
        Problem(
            type=PROBLEM_TYPE_BASE + "too-many-requests",
            title="Too many requests",
            status=429,
            detail="Too many sign-in attempts; wait before trying again.",
        ),
        lambda error: _retry_after(error.retry_after),
    ),
    UnknownProvider: (
        Problem(
            type=PROBLEM_TYPE_BASE + "unknown-provider",
            title="Unknown provider",
            status=400,
            detail="No provider of that name is offered; GET /auth/providers lists them.",
        ),
        lambda _error: {},
    ),
    ProviderRequired: (
        Problem(
            type=PROBLEM_TYPE_BASE + "provider-required",
            title="Provider required",
            status=400,
            detail="Several providers are offered: say which issued the assertion.",
        ),
        lambda _error: {},
    ),
    AccountExists: (
        Problem(
            type=PROBLEM_TYPE_BASE + "account-exists",
            title="Account exists",
            status=409,
            detail="An account with this email exists, and this provider does not vouch that "
            "the address is yours: sign in the way you did before.",
        ),
        lambda _error: {},
    ),
    NoSuchSession: (
        Problem(
            type=PROBLEM_TYPE_BASE + "no-such-session",
            title="No such session",
            status=404,
            detail="You have no live session of that id.",
        ),
        lambda _error: {},
    ),
    NoSuchIdentity: (
        Problem(
            type=PROBLEM_TYPE_BASE + "no-such-identity",
            title="No such identity",
            status=404,
            detail="You have no identity of that id.",
        ),
        lambda _error: {},
    ),
    LastIdentity: (
        Problem(
            type=PROBLEM_TYPE_BASE + "last-identity",
            title="Last identity",
            status=409,
            detail="This is the only way you sign in; link another before removing it.",
        ),
        lambda _error: {},
    ),
    NoRedirectFlow: (
        Problem(
            type=PROBLEM_TYPE_BASE + "no-such-provider",
            title="Unknown provider",
            status=404,
            detail="No provider of that name signs in through the redirect flow here.",
        ),
        lambda _error: {},
    ),
    InvalidReturnTo: (
        Problem(
            type=PROBLEM_TYPE_BASE + "invalid-return-to",
            title="Return address refused",
            status=400,
            detail="return_to must be a path on this site or a URL on an allowed origin.",
        ),
        lambda _error: {},
    ),
    FlowRefused: (
        Problem(
            type=PROBLEM_TYPE_BASE + "flow-refused",
            title="Sign-in flow refused",
            status=400,
            detail="This answer belongs to no sign-in this browser started, or one already "
            "finished; start again.",
        ),
        lambda _error: {},
    ),
    VerifierUnavailable: (
        Problem(
            type=PROBLEM_TYPE_BASE + "verifier-unavailable",
            title="Verifier unavailable",
            status=503,
            detail="The identity verifier could not be reached; try again shortly.",
        ),
        lambda error: _retry_after(error.retry_after),
    ),
}


def problem_of(error: Exception) -> tuple[Problem, dict[str, str]] | None:
    """The problem a domain error is answered with, and its headers; None for other errors."""
    # The nearest mapped class: subclasses map like their base.
    mapped = next((cls for cls in type(error).__mro__ if cls in _DOMAIN_PROBLEMS), None)
    if mapped is None:
        return None
    problem, headers = _DOMAIN_PROBLEMS[mapped]
    return problem, headers(error)


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
    retry_after = _retry_after(DEFAULT_RETRY_AFTER_SECONDS)
    if is_missing_table(error):
        logger.error("database not migrated (a table is missing): run signet migrate")
        return problem_response(SchemaOutOfDate(None).problem, retry_after)
    logger.error("database unavailable: %s", type(error).__name__)
    return problem_response(_DATABASE_UNAVAILABLE_PROBLEM, retry_after)


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
    for domain_error in _DOMAIN_PROBLEMS:
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
