"""Signet's own HTML pages (sign-in, email links): one frame, one set of headers that keep them
out of caches, frames and Referer headers."""

import base64
import hashlib
from collections.abc import Mapping
from html import escape
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.web.problems import Problem, problem_of

MAX_FIELD_LENGTH = 4096
# The pages' one style sheet, inline: the page asks nothing of any other origin. The policy below
# allows this exact text (its hash) and nothing else, so an injected style could not apply.
STYLE = """
:root { color-scheme: light; --ink: #1d2330; --muted: #5b6475; --line: #b8bfcc;
  --accent: #2f5bd3; --focus: #f5a524; }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; font: 16px/1.5 system-ui, -apple-system, "Segoe UI",
  sans-serif; color: var(--ink); background: #f3f4f7; }
header { padding: 1rem; text-align: center; font-weight: 600; font-size: 1.125rem;
  overflow-wrap: anywhere; }
main { max-width: 26rem; margin: 0 auto 3rem; padding: 1.5rem; background: #fff;
  border: 1px solid #dde1e8; border-radius: .75rem; box-shadow: 0 1px 3px rgb(0 0 0 / .06); }
@media (max-width: 28rem) { main { border-radius: 0; border-width: 1px 0; } }
h1 { margin: 0 0 1rem; font-size: 1.5rem; line-height: 1.25; }
p { margin: .75rem 0; overflow-wrap: anywhere; }
ul.providers { list-style: none; margin: 0; padding: 0; }
a.button, button { display: block; width: 100%; margin: .5rem 0; padding: .7rem 1rem;
  border: 1px solid var(--line); border-radius: .5rem; background: #fff; color: var(--ink);
  font: inherit; font-weight: 500; text-decoration: none; text-align: center; cursor: pointer; }
a.button:hover, button:hover { border-color: var(--ink); background: #f6f7f9; }
button[type=submit], a.button.primary { background: var(--accent); border-color: var(--accent);
  color: #fff; }
button[type=submit]:hover, a.button.primary:hover { background: #2549ad; }
button.secondary { background: #fff; border-color: var(--line); color: var(--ink); }
button.secondary:hover { background: #f6f7f9; border-color: var(--ink); }
a:focus-visible, button:focus-visible, input:focus-visible { outline: 3px solid var(--focus);
  outline-offset: 2px; }
label { display: block; margin: .5rem 0 .25rem; font-weight: 500; }
input { display: block; width: 100%; padding: .6rem .75rem; border: 1px solid var(--line);
  border-radius: .5rem; font: inherit; }
form { margin: 0; }
.or { display: flex; align-items: center; gap: .75rem; margin: 1.25rem 0; color: var(--muted); }
.or::before, .or::after { content: ""; flex: 1; border-top: 1px solid #dde1e8; }
.hint { color: var(--muted); font-size: .875rem; }
.error { padding: .75rem 1rem; border-radius: .5rem; background: #fde8e8; color: #8a1c1c; }
.status { padding: .75rem 1rem; border-radius: .5rem; background: #e7f4ec; color: #17502f; }
[hidden] { display: none !important; }
"""
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
# A seal, in the tab: inline, so no page asks for /favicon.ico (which is there too).
ICON = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E"
    "%3Crect width='16' height='16' rx='3' fill='%232f5bd3'/%3E%3Ccircle cx='8' cy='8' r='4' "
    "fill='none' stroke='white' stroke-width='2'/%3E%3C/svg%3E"
)
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {site}</title>
<link rel="icon" href="{icon}">
<style>{style}</style>
</head>
<body>
<header>{site}</header>
<main>
<h1>{heading}</h1>
{body}
</main>
</body>
</html>
"""
POLICY = (
    f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; img-src data:; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Cache-Control": "no-store",
    # Nothing from anywhere but this page itself: its one style sheet (by hash) and its icon.
    # A page that signs someone in must not be framed (clickjacking), and the token in its
    # address must not leave the site in a Referer. Not no-referrer: browsers would then send
    # the page's own forms with `Origin: null`, which the origin check refuses.
    "Content-Security-Policy": POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def script_policy(script: str) -> dict[str, str]:
    """The policy for a page with one inline module script: that exact text (its hash), the
    modules it imports from this origin (the client) and its calls to this origin; no other
    inline script, and nothing from elsewhere."""
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    scripts = f"script-src 'sha256-{digest}' 'self'; connect-src 'self'"
    return {"Content-Security-Policy": f"{POLICY}; {scripts}"}


def page(
    title: str,
    body: str,
    *,
    site: str,
    heading: str | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """An HTML page for `site` (its name, shown above); `body` is HTML, already escaped where it
    holds values. The heading is the title unless given."""
    return HTMLResponse(
        PAGE.format(
            title=escape(title),
            heading=escape(heading or title),
            site=escape(site),
            icon=ICON,
            style=STYLE,
            body=body,
        ),
        status_code=status,
        headers={**HEADERS, **(headers or {})},
    )


def problem_page(
    problem: Problem,
    *,
    site: str,
    headers: Mapping[str, str] | None = None,
    next_step: str = "",
) -> HTMLResponse:
    """A problem as a page, for people who got there from a form or a link."""
    body = f'<p class="error" role="alert">{escape(problem.detail)}</p>{next_step}'
    return page(problem.title, body, site=site, status=problem.status, headers=headers)


def error_page(error: Exception, *, site: str, next_step: str = "") -> HTMLResponse:
    """The page for a domain error (see problems.py); other errors go on to the handlers."""
    found = problem_of(error)
    if found is None:
        raise error
    problem, headers = found
    return problem_page(problem, site=site, headers=headers, next_step=next_step)


def wants_html(accept: str | None) -> bool:
    """Whether the client would rather read a page than a problem document (a browser)."""
    return accept is not None and "text/html" in accept


async def form_fields(request: Request) -> dict[str, str]:
    """The first value of each field of a page's form-encoded post, each cut to a sane length."""
    fields = parse_qs((await request.body()).decode("utf-8", "replace"))
    return {name: values[0][:MAX_FIELD_LENGTH] for name, values in fields.items()}
