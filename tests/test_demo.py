"""The demo SPA is served at / in development only."""

import re

import httpx

from api.app import create_app
from api.config import Settings
from api.dev.demo import DEMO_FILES
from api.web.sign_in_html import SIGN_IN_ERRORS
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
    assert '<script type="module" src="/demo/app.js">' in page.text
    assert 'import { createSignet } from "/auth/client.js";' in script.text
    # Signet only through the client: the one fetch of its own is the identity provider's.
    assert re.findall(r"fetch\(([^,)]+)", script.text) == ['"/dev-idp/assertions"']


async def test_production_does_not_serve_the_demo_app(client: httpx.AsyncClient) -> None:
    for path in ("/", "/demo/app.js", "/demo/index.html"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"


def test_the_demo_says_what_a_failed_flow_means_as_the_sign_in_page_does() -> None:
    script = (DEMO_FILES / "app.js").read_text()

    for code, words in SIGN_IN_ERRORS.items():
        assert f'  {code}: "{words}",' in script, code


async def test_the_demo_tells_its_two_email_boxes_apart(settings: Settings) -> None:
    page = (DEMO_FILES / "index.html").read_text()

    assert '<h2 id="id_email_code_title">Email me a code</h2>' in page
    assert "Sign in as anyone" in page
    assert "development only" in page
