"""The providers a person may sign in with."""

from fastapi import APIRouter

from api.web.deps import ServicesDep
from api.web.schemas import ProviderListing

router = APIRouter(prefix="/auth", tags=["providers"])


@router.get("/providers", summary="The providers offered")
async def providers(services: ServicesDep) -> list[ProviderListing]:
    """Every provider a person may sign in with, in display order."""
    return [
        ProviderListing(
            name=config.name, kind=config.kind, display_name=config.display_name, start_url=None
        )
        for config in services.providers.configs
    ]
