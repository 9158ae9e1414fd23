"""Liveness and readiness."""

import asyncio

from fastapi import APIRouter
from sqlalchemy import text

from api.web.deps import ServicesDep
from api.web.problems import problem_responses
from api.web.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> Health:
    """The process is up (it says nothing of the database: see /readyz)."""
    return Health()


@router.get("/readyz", responses=problem_responses(503))
async def readyz(services: ServicesDep) -> Health:
    """The service can reach its database and may be sent traffic."""
    async with asyncio.timeout(services.settings.database_connect_timeout + 1):
        async with services.db_sessions() as db:
            await db.execute(text("SELECT 1"))
    return Health(status="ready")
