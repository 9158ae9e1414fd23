"""The OpenAPI document: the two session schemes and the admin key's, and errors filed as
problems."""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.web.problems import PROBLEM_MEDIA_TYPE


def openapi_for(app: FastAPI, *, cookie_name: str) -> Callable[[], dict[str, Any]]:
    """`app.openapi`, built once, with the security schemes and problem media types."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                "SessionCookie": {"type": "apiKey", "in": "cookie", "name": cookie_name},
                "BearerToken": {"type": "http", "scheme": "bearer"},
                "AdminKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An admin key (sk_…) from `signet admin-keys create`.",
                },
            }
            _errors_as_problems(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi


# Marks (in `openapi_extra`) a route a browser reaches from a form or a link, whose errors are
# pages for people as well as problems for programs.
ERRORS_AS_PAGES = "x-signet-errors-as-pages"


def _errors_as_problems(schema: dict[str, Any]) -> None:
    # FastAPI files every documented response under the route's media type (JSON, or HTML for
    # the sign-in page); errors are problems whatever the route answers otherwise.
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            as_pages = operation.pop(ERRORS_AS_PAGES, False)
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[0] in "45" and content:
                    media = (
                        "application/json" if "application/json" in content else next(iter(content))
                    )
                    response["content"] = {PROBLEM_MEDIA_TYPE: content[media]}
                    if as_pages:
                        response["content"]["text/html"] = {"schema": {"type": "string"}}


def form_body(*required: str, errors_as_pages: bool = False) -> dict[str, Any]:
    """`openapi_extra` for a route that reads a form-encoded body with these string fields (and
    answers errors as pages too, for a browser's form)."""
    return {
        ERRORS_AS_PAGES: errors_as_pages,
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": list(required),
                        "properties": {name: {"type": "string"} for name in required},
                    }
                }
            },
        },
    }
