"""Liveness."""

from fastapi import APIRouter

from api.models import Health

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> Health:
    """The process is up."""
    return Health()
