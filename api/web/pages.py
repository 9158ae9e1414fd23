"""Signet's own HTML pages (sign-in, email links): one frame, one set of headers that keep them
out of caches, frames and Referer headers."""

from collections.abc import Mapping
from html import escape
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.web.problems import Problem, problem_of

MAX_FIELD_LENGTH = 4096
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 24rem; margin: 4rem auto;
  padding: 0 1rem; }}
ul {{ list-style: none; padding: 0; }}
a.button, button {{ display: block; box-sizing: border-box; width: 100%; margin: .5rem 0;
  padding: .75rem 1rem; border: 1px solid #444; border-radius: .5rem; background: none;
  color: inherit; font: inherit; text-decoration: none; text-align: center; cursor: pointer; }}
a.button:focus, a.button:hover, button:focus, button:hover {{ outline: 3px solid #36c; }}
input {{ display: block; box-sizing: border-box; width: 100%; padding: .5rem; font: inherit; }}
.error {{ color: #b00; }}
</style>
</head>
<body>
<main>
<h1>{title}</h1>
{body}
</main>
</body>
</html>
"""
HEADERS = {
    "Cache-Control": "no-store",
    # A page that signs someone in must not be framed (clickjacking), and the token in its
    # address must not leave the site in a Referer. Not no-referrer: browsers would then send
    # the page's own forms with `Origin: null`, which the origin check refuses.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def page(
    title: str, body: str, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> HTMLResponse:
    """An HTML page; `body` is HTML, already escaped where it holds values."""
    return HTMLResponse(
        PAGE.format(title=escape(title), body=body),
        status_code=status,
        headers={**HEADERS, **(headers or {})},
    )


def problem_page(
    problem: Problem, *, headers: Mapping[str, str] | None = None, next_step: str = ""
) -> HTMLResponse:
    """A problem as a page, for people who got there from a form or a link."""
    body = f'<p class="error" role="alert">{escape(problem.detail)}</p>{next_step}'
    return page(problem.title, body, status=problem.status, headers=headers)


def error_page(error: Exception, *, next_step: str = "") -> HTMLResponse:
    """The page for a domain error (see problems.py); other errors go on to the handlers."""
    found = problem_of(error)
    if found is None:
        raise error
    problem, headers = found
    return problem_page(problem, headers=headers, next_step=next_step)


def wants_html(accept: str | None) -> bool:
    """Whether the client would rather read a page than a problem document (a browser)."""
    return accept is not None and "text/html" in accept


async def form_fields(request: Request) -> dict[str, str]:
    """The first value of each field of a page's form-encoded post, each cut to a sane length."""
    fields = parse_qs((await request.body()).decode("utf-8", "replace"))
    return {name: values[0][:MAX_FIELD_LENGTH] for name, values in fields.items()}
