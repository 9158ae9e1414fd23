"""Helpers the admin API's tests share: problems as clients see them, the audit log, sign-ins."""

from typing import Any
from urllib.parse import quote

import httpx

from api.web.problems import PROBLEM_MEDIA_TYPE

COOKIE = "__Host-signet_session"


def user_path(email: str, tail: str = "") -> str:
    """/admin/v1/users/{email}, the email percent-encoded as a client must (`/` as %2F)."""
    return f"/admin/v1/users/{quote(email, safe='@')}{tail}"


def assert_problem(response: httpx.Response, status: int, slug: str | None = None) -> None:
    """`response` is an RFC 9457 problem with this status (and type, given a slug)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["status"] == status
    if slug is not None:
        assert body["type"] == f"urn:signet:problem:{slug}"


async def events_of(admin: httpx.AsyncClient, **query: Any) -> list[dict[str, Any]]:
    """Every event the admin API lists for `query`, following the pages."""
    found: list[dict[str, Any]] = []
    params = {**query, "limit": 200}
    while True:
        page = await admin.get("/admin/v1/events", params=params)
        assert page.status_code == 200, page.text
        found += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return found
        params["cursor"] = cursor


async def sign_in(client: httpx.AsyncClient, assertion: str) -> httpx.Response:
    """A JSON sign-in with `assertion`; the client keeps no cookie (callers send the token)."""
    response = await client.post("/auth/login", json={"assertion": assertion})
    client.cookies.clear()
    return response


def with_token(token: str) -> dict[str, str]:
    return {"cookie": f"{COOKIE}={token}"}
