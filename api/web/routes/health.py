"""Liveness and readiness."""

import asyncio

from fastapi import APIRouter, Request
from sqlalchemy import text

from api.store.tables import Health
from api.web.problems import problem_responses

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> Health:
    """The process is up (it says nothing of the database: see /readyz)."""
    return Health()


@router.get("/readyz", responses=problem_responses(503))
async def readyz(request: Request) -> Health:
    """The service can reach its database and may be sent traffic."""
    settings = request.app.state.settings
    async with asyncio.timeout(settings.database_connect_timeout + 1):
        async with request.app.state.sessionmaker() as session:
            await session.execute(text("SELECT 1"))
    return Health(status="ready")
