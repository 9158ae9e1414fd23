"""The front door: /auth/me and /auth/check answered before FastAPI's stack, byte for byte as
the ordinary routes behind the middleware answer them, with or without an Origin."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from api.auth.events import CLI
from api.auth.group_changes import change_groups
from api.auth.tokens import TokenKind, issue_token, read_token
from api.config import Settings
from api.services import Services, services_of
from api.testing import FakeClock, FakeProvider
from api.web.front import Answer, Asked

SPA_ORIGIN = "https://spa.example"
COOKIE = "__Host-signet_session"


@pytest.fixture
def verifier(verifier: FakeProvider) -> FakeProvider:
    verifier.accept("edith", email="edith@example.com")
    return verifier


ORIGINS = {
    "no Origin": [],
    "allowed": [SPA_ORIGIN],
    "allowed, other case": [SPA_ORIGIN.upper()],
    "not allowed": ["https://evil.example"],
    "null": ["null"],
    "allowed, then another": [SPA_ORIGIN, "https://evil.example"],
    "another, then allowed": ["https://evil.example", SPA_ORIGIN],
}
PATHS = ["/auth/me", "/auth/check"]


@contextmanager
def ordinary_routes(app: FastAPI) -> Iterator[None]:
    """Every request to `app` takes the ordinary route: FastAPI, its middleware, the route."""
    kept = dict(app.front_door)  # type: ignore[attr-defined]
    app.front_door.clear()  # type: ignore[attr-defined]
    try:
        yield
    finally:
        app.front_door.update(kept)  # type: ignore[attr-defined]


async def answers(
    client: httpx.AsyncClient, requests: list[tuple[str, list[tuple[str, str]]]]
) -> list[tuple[int, list[tuple[bytes, bytes]], bytes]]:
    """Each request's whole answer: status, every header in order, body."""
    answered = []
    for path, headers in requests:
        client.cookies.clear()  # a refreshed cookie kept would go with the next request
        response = await client.get(path, headers=headers)
        answered.append((response.status_code, response.headers.raw, response.content))
    return answered


async def credentials(
    client: httpx.AsyncClient, settings: Settings, clock: FakeClock
) -> dict[str, list[tuple[str, str]]]:
    """Request headers carrying each kind of credential a client may send."""

    async def cookie_token() -> str:
        token = (await client.post("/auth/login", json={"assertion": "edith"})).cookies[COOKIE]
        client.cookies.clear()
        return token

    cookie, revoked, other = await cookie_token(), await cookie_token(), await cookie_token()
    bearer = (await client.post("/auth/token", json={"assertion": "edith"})).json()
    await client.post("/auth/logout", headers={"cookie": f"{COOKIE}={revoked}"})
    claims = read_token(settings=settings, kind=TokenKind.COOKIE, token=other, now=clock())
    assert claims is not None

    def signed_ago(seconds: float) -> str:
        then = clock() - timedelta(seconds=seconds)
        session = claims.session_id
        return issue_token(
            settings=settings, kind=TokenKind.COOKIE, session_id=session, started_at=then, now=then
        )

    idle = settings.session_idle_timeout
    return {
        "cookie": [("cookie", f"{COOKIE}={cookie}")],
        "cookie past its refresh point": [("cookie", f"{COOKIE}={signed_ago(idle * 0.5)}")],
        "bearer": [("authorization", f"Bearer {bearer['access_token']}")],
        "none": [],
        "expired": [("cookie", f"{COOKIE}={signed_ago(idle + 1)}")],
        "revoked": [("cookie", f"{COOKIE}={revoked}")],
        "forged": [("cookie", f"{COOKIE}=not.a.token")],
        "two cookies": [("cookie", f"{COOKIE}={cookie}; {COOKIE}={cookie}")],
        "cookie, then bearer": [
            ("cookie", f"{COOKIE}={cookie}"),
            ("authorization", f"Bearer {bearer['access_token']}"),
        ],
    }


@pytest.mark.settings(allowed_origins=(SPA_ORIGIN,))
async def test_the_front_door_answers_as_the_ordinary_route_does(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, clock: FakeClock
) -> None:
    carried = await credentials(client, settings, clock)
    requests = [
        (path, [*headers, *[("origin", origin) for origin in origins], ("x-request-id", "eq-1")])
        for path in PATHS
        for origins in ORIGINS.values()
        for headers in carried.values()
    ]

    front = await answers(client, requests)
    with ordinary_routes(app):
        ordinary = await answers(client, requests)

    for request, front_answer, ordinary_answer in zip(requests, front, ordinary, strict=True):
        assert front_answer == ordinary_answer, request
    # The set covers what it should: both answers, refusals, refreshed cookies, echoed origins.
    me_without_origin = {
        name: status for name, (status, _, _) in zip(carried, front[: len(carried)], strict=True)
    }
    assert me_without_origin == {
        **dict.fromkeys(carried, 200),
        **dict.fromkeys(["none", "expired", "revoked", "forged", "two cookies"], 401),
    }
    assert {status for status, _, _ in front} == {200, 204, 401}
    heads = [dict(headers) for _, headers, _ in front]
    refreshed = sum(b"set-cookie" in head for head in heads)
    assert refreshed == len(PATHS) * len(ORIGINS)  # the cookie past its refresh point
    echoed = [head.get(b"access-control-allow-origin") for head in heads]
    assert echoed.count(SPA_ORIGIN.encode()) == len(PATHS) * 2 * len(carried)
    assert all(head[b"vary"] == b"Origin" for head in heads)


RULES = {
    "no rule": "",
    "her group": "?group=admins",
    "another group": "?group=ops",
    "any of two": "?group=ops,admins",
    "repeated": "?group=ops&group=admins",
    "her email": "?email=Edith@Example.com",
    "her domain": "?domain=example.com",
    "another domain": "?domain=other.example",
    "every kind": "?group=admins&email=edith@example.com&domain=example.com",
    "one kind fails": "?group=admins&domain=other.example",
    "unknown parameter": "?grp=admins",
    "empty": "?group=",
    "not a group": "?group=Admins",
    "malformed": "?group",
}


@pytest.mark.settings(allowed_origins=(SPA_ORIGIN,))
async def test_the_front_door_applies_gateway_rules_as_the_ordinary_route_does(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, clock: FakeClock
) -> None:
    carried = await credentials(client, settings, clock)
    await change_groups(
        services_of(app).sessions, "edith@example.com", at=clock(), actor=CLI, add=["admins"]
    )
    requests = [
        (f"/auth/check{query}", [*headers, *origin, ("x-request-id", "eq-3")])
        for query in RULES.values()
        for origin in ([], [("origin", SPA_ORIGIN)])
        for headers in (carried["cookie"], carried["bearer"], carried["none"], carried["revoked"])
    ]

    front = await answers(client, requests)
    with ordinary_routes(app):
        ordinary = await answers(client, requests)

    for request, front_answer, ordinary_answer in zip(requests, front, ordinary, strict=True):
        assert front_answer == ordinary_answer, request
    by_rule = {
        name: frozenset(status for status, _, _ in front[index * 8 : index * 8 + 8])
        for index, name in enumerate(RULES)
    }
    passes, refused, typo = frozenset({204, 401}), frozenset({403, 401}), frozenset({400})
    assert by_rule == {
        **dict.fromkeys(["no rule", "her group", "any of two", "repeated"], passes),
        **dict.fromkeys(["her email", "her domain", "every kind"], passes),
        **dict.fromkeys(["another group", "another domain", "one kind fails"], refused),
        **dict.fromkeys(["unknown parameter", "empty", "not a group", "malformed"], typo),
    }
    allowed = dict(front[8][1])  # her group, with her cookie
    assert allowed[b"x-signet-groups"] == b"admins"
    assert b"x-signet-email" not in dict(front[16][1])  # another group, with her cookie


@pytest.mark.settings(allowed_origins=(SPA_ORIGIN,))
@pytest.mark.parametrize("fault", [ConnectionError("database down"), RuntimeError("bug")])
@pytest.mark.parametrize("path", PATHS)
async def test_the_front_door_fails_as_the_ordinary_route_does(
    app: FastAPI,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    fault: Exception,
) -> None:
    async def failing(**_: object) -> None:
        raise fault

    token = (await client.post("/auth/login", json={"assertion": "edith"})).cookies[COOKIE]
    client.cookies.clear()
    monkeypatch.setattr(services_of(app).auth, "check", failing)
    requests = [
        (path, [("cookie", f"{COOKIE}={token}"), ("x-request-id", "eq-2"), *origin])
        for origin in ([], [("origin", SPA_ORIGIN)], [("origin", "null")])
    ]

    front = await answers(client, requests)
    with ordinary_routes(app):
        ordinary = await answers(client, requests)

    assert front == ordinary
    assert {status for status, _, _ in front} == {503 if isinstance(fault, OSError) else 500}


@pytest.mark.parametrize("path", ["/auth/me", "/auth/check"])
async def test_front_door_answers_carry_the_request_id(
    client: httpx.AsyncClient, path: str
) -> None:
    kept = await client.get(path, headers={"x-request-id": "gw-42"})
    replaced = await client.get(path, headers={"x-request-id": "no good"})

    assert kept.headers["x-request-id"] == "gw-42"
    assert replaced.headers["x-request-id"] not in ("", "no good")


async def test_two_session_cookies_of_one_name_are_signed_out(client: httpx.AsyncClient) -> None:
    token = (await client.post("/auth/login", json={"assertion": "edith"})).cookies[COOKIE]
    client.cookies.clear()

    response = await client.get(
        "/auth/me", headers={"cookie": f"{COOKIE}={token}; {COOKIE}={token}"}
    )

    assert response.status_code == 401


async def test_an_unexpected_error_at_the_front_door_is_a_500_problem(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async def broken(_services: Services, _asked: Asked) -> Answer:
        raise RuntimeError("bug")

    app.front_door["/auth/me"] = broken  # type: ignore[attr-defined]

    response = await client.get("/auth/me", headers={"x-request-id": "req-500"})

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "req-500"
    assert response.json()["status"] == 500
