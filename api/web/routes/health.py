"""Liveness and readiness."""

import asyncio

from fastapi import APIRouter

from api.store.db import SCHEMA_REVISION, schema_revision
from api.web.deps import ServicesDep
from api.web.problems import SchemaOutOfDate, problem_responses
from api.web.schemas import Health, Ready

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Is the process up")
async def healthz() -> Health:
    """The process is up (it says nothing of the database: see /readyz)."""
    return Health()


@router.get("/readyz", summary="May this process take traffic", responses=problem_responses(503))
async def readyz(services: ServicesDep) -> Ready:
    """The database answers and its schema is up to date: send this process traffic."""
    async with asyncio.timeout(services.settings.database_connect_timeout + 1):
        async with services.db_sessions() as db:
            revision = await schema_revision(db)
    if revision != SCHEMA_REVISION:
        raise SchemaOutOfDate(revision)
    return Ready(status="ready", policy=services.settings.policy_digest)
