"""Fault drills for the verifier: down, slow, flapping; a burst while it times out."""

import asyncio
import itertools
import time
from collections.abc import Iterator

import httpx
import respx
from sqlalchemy.ext.asyncio import AsyncSession

from api.store.tables import SessionRow, User
from tests.apps import VERIFIER_URL
from tests.databases import count_rows


async def rows(db_session: AsyncSession) -> tuple[int, int]:
    return await count_rows(db_session, User), await count_rows(db_session, SessionRow)


async def test_a_burst_of_1000_logins_while_the_verifier_times_out(
    client: httpx.AsyncClient, real_verifier: respx.MockRouter, db_session: AsyncSession
) -> None:
    real_verifier.post(VERIFIER_URL).mock(side_effect=httpx.ReadTimeout("verifier too slow"))
    started = time.monotonic()

    responses = await asyncio.gather(
        *(client.post("/auth/login", json={"assertion": f"a{n}"}) for n in range(1000))
    )

    assert {response.status_code for response in responses} == {503}
    assert all(response.headers["retry-after"].isdigit() for response in responses)
    assert await rows(db_session) == (0, 0)
    assert time.monotonic() - started < 30


async def test_a_flapping_verifier_writes_only_what_it_vouched_for(
    client: httpx.AsyncClient, real_verifier: respx.MockRouter, db_session: AsyncSession
) -> None:
    okay = httpx.Response(
        200,
        json={"status": "okay", "email": "edith@example.com", "audience": "https://app.example"},
    )
    answers: Iterator[httpx.Response | Exception] = itertools.cycle(
        [okay, httpx.Response(502), httpx.ConnectTimeout("down")]
    )
    real_verifier.post(VERIFIER_URL).mock(side_effect=lambda request: _answer(next(answers)))

    statuses = []
    for _ in range(6):  # each from a browser of its own, so no login replaces another's session
        client.cookies.clear()
        statuses.append((await client.post("/auth/login", json={"assertion": "a"})).status_code)

    assert statuses == [200, 503, 503, 200, 503, 503]
    assert await rows(db_session) == (1, 2)


def _answer(answer: httpx.Response | Exception) -> httpx.Response:
    if isinstance(answer, Exception):
        raise answer
    return answer
