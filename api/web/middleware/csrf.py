"""Cross-site request forgery defence, in two parts that together cover login CSRF (signing a
victim in to the attacker's account) as well as logout:

- state-changing requests must come from a trusted origin: browsers send `Origin` on every
  cross-origin POST and `Sec-Fetch-Site` on every request, and pages cannot forge either;
- their bodies must be declared JSON, which a page on another site cannot send without a CORS
  preflight (routes opt in with `api.web.deps.JSON_ONLY`); Signet's own HTML forms, whose bodies
  any page could send, must instead say where they come from (`api.web.deps.OWN_FORM`).
"""

from fastapi import Request
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api.web.problems import ProblemError, UnsupportedMediaType, problem_response

STATE_CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CrossSiteRequest(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            403,
            slug="cross-site-request",
            title="Cross-site request refused",
            detail="State-changing requests are accepted only from the site's own or allowed "
            "origins.",
        )


_FORBIDDEN = CrossSiteRequest().problem


def _own_origin(scope: Scope, headers: Headers) -> str | None:
    host = headers.get("host")
    return f"{scope.get('scheme', 'http')}://{host}".lower() if host else None


class OriginCheckMiddleware:
    """Refuses state-changing requests whose Origin (or Sec-Fetch-Site) says another site."""

    def __init__(self, app: ASGIApp, *, trusted_origins: frozenset[str]) -> None:
        self.app = app
        self.trusted_origins = trusted_origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in STATE_CHANGING_METHODS:
            headers = Headers(scope=scope)
            if not self._allowed(scope, headers):
                await problem_response(_FORBIDDEN)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _allowed(self, scope: Scope, headers: Headers) -> bool:
        origin = headers.get("origin")
        if origin is not None:
            origin = origin.lower()
            return origin in self.trusted_origins or origin == _own_origin(scope, headers)
        # No Origin: not a cross-origin browser request, unless the browser says it is.
        return headers.get("sec-fetch-site") != "cross-site"


async def require_json_body(request: Request) -> None:
    """Refuse bodies not declared as JSON: those are the ones a page may send cross-site."""
    content_type = request.headers.get("content-type")
    if content_type is None:
        has_body = request.headers.get("content-length", "0") != "0" or (
            "transfer-encoding" in request.headers
        )
        if has_body:
            raise UnsupportedMediaType
        return
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise UnsupportedMediaType


async def require_own_form(request: Request) -> None:
    """For Signet's own HTML forms: the post must say where it comes from, with an `Origin`
    (which the origin check has found trusted) or `Sec-Fetch-Site: same-origin`; one that says
    neither could come from any page, since a form body needs no preflight."""
    headers = request.headers
    if "origin" not in headers and headers.get("sec-fetch-site") != "same-origin":
        raise CrossSiteRequest
