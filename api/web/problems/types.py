"""The problem shape (RFC 9457) and the errors Signet raises to answer with one."""

from pydantic import BaseModel, Field

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


class NotFound(ProblemError):
    """What an admin API path names is not there: no such user, session or invitation."""

    def __init__(self, what: str) -> None:
        super().__init__(
            404,
            slug=f"no-such-{what}",
            title=f"No such {what}",
            detail=f"There is no {what} of that {'email' if what == 'user' else 'id'}.",
        )
