"""/docs is served from the package's own Swagger UI files, so it works offline."""

import re

import httpx
import pytest

from api.app import create_app
from api.config import Settings
from tests.apps import APP_ORIGIN


async def test_docs_page_loads_only_assets_served_here(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")

    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert urls
    assert all(url.startswith("/") for url in urls), urls
    assert "cdn" not in page.text
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url


async def test_docs_point_at_the_openapi_document(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")

    assert "'/openapi.json'" in page.text or '"/openapi.json"' in page.text
    assert (await client.get("/openapi.json")).status_code == 200


async def test_redoc_is_not_served(client: httpx.AsyncClient) -> None:
    assert (await client.get("/redoc")).status_code == 404


@pytest.mark.parametrize("env", ["development", "production"])
async def test_docs_can_be_turned_off(settings: Settings, env: str) -> None:
    app = create_app(settings.model_copy(update={"docs": False, "env": env}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=APP_ORIGIN) as client:
        for path in ("/docs", "/openapi.json", "/docs/assets/swagger-ui-bundle.js"):
            assert (await client.get(path)).status_code == 404, path
