"""The notes app: signed in, the notes are yours; signed out, a 401 problem."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from api.config import Settings
from api.testing import log_in_as
from examples.fastapi_app.app import create_notes_app


@pytest.fixture
async def notes(settings: Settings, engine: AsyncEngine) -> AsyncIterator[FastAPI]:
    app = create_notes_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(notes: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=notes)
    async with httpx.AsyncClient(transport=transport, base_url="https://app.example") as client:
        yield client


async def test_signed_in_the_notes_are_yours(client: httpx.AsyncClient, notes: FastAPI) -> None:
    await log_in_as(client, "edith@example.com", app=notes)

    response = await client.get("/notes")

    assert response.status_code == 200
    assert response.json() == [
        {"author": "edith@example.com", "text": "Welcome back, edith@example.com."}
    ]


async def test_signed_out_the_notes_are_a_401_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/notes")

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
