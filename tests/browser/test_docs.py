"""/docs renders the API in a real browser with nothing fetched from outside the server."""

import pytest
from playwright.sync_api import Page, Request, expect

from tests.servers import Server

pytestmark = pytest.mark.browser


def test_docs_render_the_auth_operations_offline(page: Page, server: Server) -> None:
    outside: list[str] = []

    def note_outside_requests(request: Request) -> None:
        if not request.url.startswith((server.url, "data:", "blob:")):
            outside.append(request.url)

    page.on("request", note_outside_requests)
    page.goto("/docs")

    for path in ("/auth/login", "/auth/me", "/auth/logout"):
        expect(page.locator(".opblock-summary-path", has_text=path).first).to_be_visible()
    assert outside == []
