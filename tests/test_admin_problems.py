"""Every bad input to the admin API is a 4xx RFC 9457 problem, never a 500 (issue 23): unknown
email 404, bad cursor 400, limit 0 or 500 422, bad group name 422, bad email 422, a body that is
not JSON 415; and without a key, 401 before anything is read."""

from typing import Any

import httpx
import pytest

from api.web.routes.admin.paging import cursor_after
from tests.admin_calls import assert_problem, user_path

EDITH = "edith@example.com"
NOBODY = "nobody@example.com"
# A cursor of the events' list (an id), handed to a list keyed by email or time.
EVENT_CURSOR = "eyJhZnRlciI6IDF9"
# A time without its zone, the other lists' key shape otherwise.
ZONELESS_CURSOR = "eyJhZnRlciI6ICIyMDI2LTAxLTAxVDAwOjAwOjAwIHgifQ"
# A time with its zone that is before the calendar's start in UTC.
BEFORE_TIME_CURSOR = cursor_after("0001-01-01T00:00:00+01:00 x")

BAD: list[tuple[str, str, dict[str, Any], int, str | None]] = [
    ("GET", "/admin/v1/users", {"params": {"limit": 0}}, 422, "invalid-request"),
    ("GET", "/admin/v1/users", {"params": {"limit": 500}}, 422, "invalid-request"),
    ("GET", "/admin/v1/users", {"params": {"limit": "ten"}}, 422, "invalid-request"),
    ("GET", "/admin/v1/users", {"params": {"cursor": "garbage!"}}, 400, "bad-cursor"),
    ("GET", "/admin/v1/users", {"params": {"cursor": EVENT_CURSOR}}, 400, "bad-cursor"),
    ("GET", "/admin/v1/users", {"params": {"cursor": "x" * 2000}}, 422, "invalid-request"),
    ("GET", "/admin/v1/users", {"params": {"group": "Staff"}}, 422, "invalid-request"),
    ("GET", "/admin/v1/users", {"params": {"disabled": "maybe"}}, 422, "invalid-request"),
    ("GET", "/admin/v1/users/not-an-email", {}, 422, "invalid-request"),
    ("GET", f"/admin/v1/users/{'a' * 400}@example.com", {}, 422, "invalid-request"),
    ("GET", user_path(NOBODY), {}, 404, "no-such-user"),
    ("GET", user_path(NOBODY, "/sessions"), {}, 404, "no-such-user"),
    ("PATCH", user_path(NOBODY), {"json": {"disabled": True}}, 404, "no-such-user"),
    ("PATCH", user_path(NOBODY), {"json": {"groups": []}}, 404, "no-such-user"),
    ("DELETE", user_path(NOBODY), {}, 404, "no-such-user"),
    ("PATCH", user_path(EDITH), {"json": {}}, 422, "invalid-request"),
    ("PATCH", user_path(EDITH), {"json": {"disabled": None}}, 422, "invalid-request"),
    ("PATCH", user_path(EDITH), {"json": {"disabled": "yes"}}, 422, "invalid-request"),
    ("PATCH", user_path(EDITH), {"json": {"groups": ["Bad"]}}, 422, "invalid-request"),
    ("PATCH", user_path(EDITH), {"json": {"groups": "ops"}}, 422, "invalid-request"),
    ("PATCH", user_path(EDITH), {"json": {"email": "x@example.com"}}, 422, "invalid-request"),
    ("PATCH", user_path(EDITH), {"content": b"disabled=true"}, 415, "unsupported-media-type"),
    ("POST", "/admin/v1/users", {"json": {}}, 422, "invalid-request"),
    ("POST", "/admin/v1/users", {"json": {"email": "nope"}}, 422, "invalid-request"),
    ("POST", "/admin/v1/users", {"json": {"email": 7}}, 422, "invalid-request"),
    ("POST", "/admin/v1/users", {"json": {"email": EDITH, "groups": ["a,b"]}}, 422, None),
    ("POST", "/admin/v1/users", {"json": {"email": EDITH, "role": "x"}}, 422, None),
    ("POST", "/admin/v1/users", {"json": [EDITH]}, 422, "invalid-request"),
    ("POST", "/admin/v1/users", {"data": {"email": EDITH}}, 415, "unsupported-media-type"),
    (
        "POST",
        "/admin/v1/users",
        {"content": b"{not json", "headers": {"content-type": "application/json"}},
        422,
        "invalid-request",
    ),
    ("GET", "/admin/v1/users/x@example.com/sessions", {"params": {"cursor": "!"}}, 400, None),
    ("DELETE", "/admin/v1/sessions/nope", {}, 404, "no-such-session"),
    ("DELETE", f"/admin/v1/sessions/{'x' * 100}", {}, 422, "invalid-request"),
    ("POST", "/admin/v1/invitations", {"json": {"email": "nope"}}, 422, None),
    ("POST", "/admin/v1/invitations", {"json": {"email": EDITH, "groups": ["-x"]}}, 422, None),
    ("POST", "/admin/v1/invitations", {"json": {"email": EDITH, "expires_in": 0}}, 422, None),
    ("POST", "/admin/v1/invitations", {"json": {"email": EDITH, "expires_in": -5}}, 422, None),
    ("POST", "/admin/v1/invitations", {"json": {"email": EDITH, "expires_in": "60"}}, 422, None),
    ("POST", "/admin/v1/invitations", {"json": {"email": EDITH, "expires_in": 10**12}}, 422, None),
    ("GET", "/admin/v1/invitations", {"params": {"cursor": "nope"}}, 400, "bad-cursor"),
    ("GET", "/admin/v1/invitations", {"params": {"cursor": EVENT_CURSOR}}, 400, "bad-cursor"),
    ("GET", "/admin/v1/invitations", {"params": {"cursor": ZONELESS_CURSOR}}, 400, "bad-cursor"),
    ("GET", "/admin/v1/invitations", {"params": {"cursor": BEFORE_TIME_CURSOR}}, 400, "bad-cursor"),
    ("GET", "/admin/v1/invitations", {"params": {"limit": 0}}, 422, None),
    ("DELETE", "/admin/v1/invitations/nope", {}, 404, "no-such-invitation"),
    ("GET", "/admin/v1/events", {"params": {"type": "user.nope"}}, 422, "invalid-request"),
    ("GET", "/admin/v1/events", {"params": {"type": ""}}, 422, "invalid-request"),
    ("GET", "/admin/v1/events", {"params": {"email": "nope"}}, 422, "invalid-request"),
    ("GET", "/admin/v1/events", {"params": {"after": -1}}, 422, "invalid-request"),
    ("GET", "/admin/v1/events", {"params": {"after": "x"}}, 422, "invalid-request"),
    ("GET", "/admin/v1/events", {"params": {"cursor": "bad"}}, 400, "bad-cursor"),
    ("GET", "/admin/v1/events", {"params": {"cursor": "eyJhZnRlciI6ICJ4In0"}}, 400, None),
    ("GET", "/admin/v1/events", {"params": {"limit": 0}}, 422, "invalid-request"),
    ("GET", "/admin/v1/events", {"params": {"limit": 500}}, 422, "invalid-request"),
    ("GET", "/admin/v1/events", {"params": {"after": 2**64}}, 422, "invalid-request"),
    ("GET", "/admin/v1/events", {"params": {"cursor": cursor_after(2**64)}}, 400, "bad-cursor"),
    ("GET", "/admin/v1/events", {"params": {"cursor": cursor_after(-1)}}, 400, "bad-cursor"),
    ("GET", "/admin/v1/users", {"params": {"cursor": cursor_after("\x00")}}, 400, "bad-cursor"),
    ("GET", "/admin/v1/users", {"params": {"email_prefix": "a\x00"}}, 422, None),
    ("GET", "/admin/v1/users", {"params": {"provider": "a\x00"}}, 422, None),
    ("GET", "/admin/v1/users/a%00b@example.com", {}, 422, None),
    (
        "GET",
        "/admin/v1/invitations",
        {"params": {"cursor": cursor_after("2026-01-01T00:00:00+00:00 \x00")}},
        400,
        "bad-cursor",
    ),
    ("DELETE", "/admin/v1/sessions/a%00b", {}, 422, None),
    ("DELETE", "/admin/v1/invitations/a%00b", {}, 422, None),
    ("GET", "/admin/v1/nothing-here", {}, 404, None),
    ("PUT", "/admin/v1/users", {"json": {}}, 405, None),
]


@pytest.fixture
async def edith(admin: httpx.AsyncClient) -> None:
    assert (await admin.post("/admin/v1/users", json={"email": EDITH})).status_code == 201


@pytest.mark.usefixtures("edith")
@pytest.mark.parametrize(
    ("method", "path", "request_parts", "status", "slug"),
    BAD,
    ids=[f"{case[0]} {case[1][:40]} {case[2]}"[:90] for case in BAD],
)
async def test_a_bad_input_is_a_4xx_problem(
    admin: httpx.AsyncClient,
    method: str,
    path: str,
    request_parts: dict[str, Any],
    status: int,
    slug: str | None,
) -> None:
    response = await admin.request(method, path, **request_parts)

    assert_problem(response, status, slug)


# Without a key: all but a path no route has, and a body that is not JSON at all (FastAPI parses
# the body before it resolves any dependency: it is refused unread by anything of Signet's).
UNKEYED = [
    case for case in BAD if "nothing" not in case[1] and case[2].get("content") != b"{not json"
]


@pytest.mark.parametrize(
    ("method", "path", "request_parts", "status", "slug"),
    UNKEYED,
    ids=[f"{case[0]} {case[1][:40]} {case[2]}"[:90] for case in UNKEYED],
)
async def test_without_a_key_every_route_is_401_whatever_its_input(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    request_parts: dict[str, Any],
    status: int,
    slug: str | None,
) -> None:
    response = await client.request(method, path, **request_parts)

    if status == 405:  # no route: the method is refused before any dependency
        assert_problem(response, 405)
    else:
        assert_problem(response, 401, "admin-key-required")


async def test_a_bad_group_name_is_not_echoed(admin: httpx.AsyncClient) -> None:
    response = await admin.post(
        "/admin/v1/users", json={"email": EDITH, "groups": ["<script>secret"]}
    )

    assert_problem(response, 422)
    assert "secret" not in response.text
