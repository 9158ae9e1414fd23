"""The demo SPA is served at / in development only."""

import httpx

from api.app import create_app
from api.config import Settings
from tests.apps import APP_ORIGIN


async def test_development_serves_the_demo_app(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"env": "development"}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=APP_ORIGIN) as client:
        page = await client.get("/")
        script = await client.get("/demo/app.js")

    assert page.status_code == 200
    assert 'id="id_login"' in page.text
    assert 'id="id_logout"' in page.text
    assert script.status_code == 200
    assert 'credentials: "include"' in script.text


async def test_production_does_not_serve_the_demo_app(client: httpx.AsyncClient) -> None:
    for path in ("/", "/demo/app.js", "/demo/index.html"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"
