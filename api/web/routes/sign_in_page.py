"""The sign-in page for people who arrive without a SPA: one button per provider, no JavaScript."""

from html import escape
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api.auth.flows import checked_return_to
from api.web.deps import ServicesDep
from api.web.problems import problem_responses

router = APIRouter(prefix="/auth", tags=["providers"])

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 24rem; margin: 4rem auto;
  padding: 0 1rem; }}
ul {{ list-style: none; padding: 0; }}
a.button {{ display: block; margin: .5rem 0; padding: .75rem 1rem; border: 1px solid #444;
  border-radius: .5rem; color: inherit; text-decoration: none; text-align: center; }}
a.button:focus, a.button:hover {{ outline: 3px solid #36c; }}
</style>
</head>
<body>
<main>
<h1>Sign in</h1>
{body}
</main>
</body>
</html>
"""


@router.get(
    "/sign-in",
    summary="The sign-in page",
    response_class=HTMLResponse,
    responses=problem_responses(400, 422),
)
async def sign_in_page(
    services: ServicesDep, return_to: str | None = Query(default=None, max_length=4096)
) -> Response:
    """A page with a button per provider; with a single one, straight to it."""
    target = checked_return_to(return_to, allowed_origins=services.settings.return_to_origins)
    query = urlencode({"return_to": target})
    starts = [
        (config.display_name, f"{start}?{query}")
        for config in services.providers.configs
        if (start := services.providers.start_url(config.name)) is not None
    ]
    if len(starts) == 1:
        return RedirectResponse(starts[0][1], status_code=302)
    if starts:
        items = "".join(
            f'<li><a class="button" href="{escape(url)}">Sign in with {escape(name)}</a></li>'
            for name, url in starts
        )
        body = f"<ul>{items}</ul>"
    else:
        body = "<p>No provider here signs in without the application's own page.</p>"
    return HTMLResponse(PAGE.format(body=body), headers={"Cache-Control": "no-store"})
