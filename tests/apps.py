"""Apps as tests run them: through the real lifespan, on Services with test doubles handed in."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from api.app import create_app
from api.config import Settings
from api.services import open_services

APP_ORIGIN = "https://app.example"
VERIFIER_URL = "https://verifier.example/verify"


@asynccontextmanager
async def running(settings: Settings, **replacements: Any) -> AsyncIterator[FastAPI]:
    """The app for `settings`, its lifespan running, on Services opened with `replacements`
    (a clock, a timer, an HTTP client, a provider: see `open_services`)."""
    async with open_services(settings, **replacements) as services:
        app = create_app(services=services)
        async with app.router.lifespan_context(app):
            yield app


@asynccontextmanager
async def client_of(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of `app`, as a browser on the app's origin."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=APP_ORIGIN) as client:
        yield client


@asynccontextmanager
async def serving(settings: Settings, **replacements: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the running app for `settings`: a worker, or the same one after a restart."""
    async with running(settings, **replacements) as app, client_of(app) as client:
        yield client


def persona_okay(email: str, audience: str = APP_ORIGIN) -> dict[str, object]:
    """A Persona verifier's answer that vouches for `email` (expiring in 2100)."""
    return {"status": "okay", "email": email, "audience": audience, "expires": 4_102_444_800_000}


@asynccontextmanager
async def two_workers(
    settings: Settings, **replacements: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Clients of two workers on one database, each with Services (and caches) of its own."""
    async with (
        running(settings, **replacements) as first,
        running(settings, **replacements) as second,
        client_of(first) as one,
        client_of(second) as two,
    ):
        yield one, two


def suite_settings(database_url: str, **changes: Any) -> Settings:
    """The suite's production settings on `database_url`, with `changes`: its key and verifier,
    and the sign-in limits off (many tests sign in again and again from one address)."""
    return Settings(
        **{
            "env": "production",
            "database_url": database_url,
            "secret_key": "test-secret-key-that-is-long-enough-0123456789",
            "verifier_url": VERIFIER_URL,
            "audience": APP_ORIGIN,
            "rate_limit_per_address": 0,
            "rate_limit_per_identity": 0,
            **changes,
        }
    )
