"""CORS with credentials for the allowed origins; a refused preflight is a problem too.

`CorsPolicy` is read from the settings once, when the app is built: it configures the
middleware, and gives the front door (api/web/front.py) the headers the middleware adds to a
simple (not preflight) request's answer, so that the front door answers cross-origin requests
exactly as the ordinary route behind the middleware does.
"""

from collections.abc import Collection
from typing import Any

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from api.web.problems import Problem, problem_response

Header = tuple[bytes, bytes]
_VARY: Header = (b"vary", b"Origin")


class CorsPolicy:
    """Which origins may read Signet's answers with credentials, and what they are told."""

    def __init__(self, allowed_origins: Collection[str], *, expose_headers: Collection[str] = ()):
        if "*" in allowed_origins:  # the settings refuse it; the headers below assume it
            raise ValueError("CorsPolicy takes origins, not '*'")
        self.allowed_origins = tuple(allowed_origins)
        self.expose_headers = tuple(expose_headers)
        # What Starlette's CORSMiddleware.send adds to a simple request's answer (its
        # `simple_headers`, then the echoed origin for an allowed one, then Vary), per case.
        simple: list[Header] = [(b"access-control-allow-credentials", b"true")]
        if self.expose_headers:
            exposed = ", ".join(self.expose_headers).encode("latin-1")
            simple.append((b"access-control-expose-headers", exposed))
        self._without_origin: list[Header] = [_VARY]
        self._disallowed: list[Header] = [*simple, _VARY]
        self._allowed: dict[bytes, list[Header]] = {}
        for origin in self.allowed_origins:
            raw = origin.encode("latin-1")
            self._allowed[raw] = [*simple, (b"access-control-allow-origin", raw), _VARY]

    def middleware_options(self) -> dict[str, Any]:
        """The keyword arguments of `ProblemCORSMiddleware` for this policy."""
        return {
            "allow_origins": list(self.allowed_origins),
            "allow_credentials": True,
            "allow_methods": ["GET", "POST", "PATCH", "DELETE"],
            "allow_headers": ["Content-Type", "Authorization"],
            "expose_headers": list(self.expose_headers),
            "max_age": 600,
        }

    def simple_headers(self, origin: bytes | None) -> list[Header]:
        """The headers the middleware appends to a GET's answer for this Origin (the first
        one sent, as the middleware reads it), or for none; the answer must carry none of its
        own Vary or Access-Control-* headers."""
        if origin is None:
            return self._without_origin
        return self._allowed.get(origin, self._disallowed)


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS middleware, answering a refused preflight as application/problem+json."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        refused = bytes(response.body).decode()  # e.g. "Disallowed CORS origin, method"
        problem = Problem(title="CORS request refused", status=400, detail=f"{refused}.")
        return problem_response(problem)
