"""CORS with credentials for the allowed origins; a refused preflight is a problem too."""

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from api.web.problems import Problem, problem_response


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS middleware, answering a refused preflight as application/problem+json."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        refused = bytes(response.body).decode()  # e.g. "Disallowed CORS origin, method"
        problem = Problem(title="CORS request refused", status=400, detail=f"{refused}.")
        return problem_response(problem)
