"""Fault drills for the verifier: down, slow, flapping; a burst while it times out."""

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.config import Settings
from api.store.tables import SessionRow, User
from tests.apps import VERIFIER_URL, client_of, persona_okay, running
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
        json=persona_okay("edith@example.com"),
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


@pytest.fixture
async def dripping_verifier() -> AsyncIterator[str]:
    """A Persona verifier on loopback that answers one byte at a time, never finishing in time:
    each byte is well within a read timeout, the whole answer far beyond any deadline."""
    dripping: set[asyncio.Task[None]] = set()

    async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        dripping.add(task)
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
            writer.write(b"Content-Length: 1000\r\n\r\n")
            for _ in range(1000):
                writer.write(b" ")
                await writer.drain()
                await asyncio.sleep(0.1)  # the provider's pace, not a wait for a condition
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(drip, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/verify"
    finally:
        for task in dripping:
            task.cancel()
        await asyncio.gather(*dripping, return_exceptions=True)
        server.close()
        await server.wait_closed()


async def test_a_provider_that_drips_its_answer_is_a_503_at_the_deadline(
    settings: Settings, dripping_verifier: str, engine: AsyncEngine
) -> None:
    deadline = 1.0
    dripping = settings.model_copy(
        update={"verifier_url": dripping_verifier, "verifier_timeout": deadline}
    )
    async with running(dripping) as app, client_of(app) as client:
        started = time.monotonic()
        response = await client.post("/auth/login", json={"assertion": "a"})
        took = time.monotonic() - started

    assert response.status_code == 503
    assert took < deadline + 1.5  # generous; the figure itself is measured in tests/bench


async def test_an_absurdly_nested_answer_is_a_503_not_a_500(
    client: httpx.AsyncClient, real_verifier: respx.MockRouter
) -> None:
    nested = "[" * 50_000 + "]" * 50_000
    real_verifier.post(VERIFIER_URL).respond(
        200, content=nested.encode(), headers={"content-type": "application/json"}
    )

    response = await client.post("/auth/login", json={"assertion": "a"})

    assert response.status_code == 503
