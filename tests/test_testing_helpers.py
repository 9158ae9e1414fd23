"""api.testing, as a downstream test suite uses it."""

import httpx
from fastapi import FastAPI

from api.testing import log_in_as


async def test_log_in_as_signs_the_client_in_in_one_line(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await log_in_as(client, " Edith@Example.com ", app=app)

    response = await client.get("/auth/me")

    assert response.status_code == 200
    assert response.json()["email"] == "edith@example.com"


async def test_a_session_from_log_in_as_ends_on_logout(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await log_in_as(client, "edith@example.com", app=app)

    await client.post("/auth/logout")

    assert (await client.get("/auth/me")).status_code == 401
