"""Edith signs in through a provider's own page, as she would with Google or GitHub: the demo's
"Sign in with Dev" walks the redirect flow against the development identity provider."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from api.web.sign_in_html import SIGN_IN_ERRORS
from tests.servers import Server

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path, default_providers=True)
    yield server
    server.stop()


def test_edith_signs_in_with_the_dev_provider_and_comes_back_signed_in(page: Page) -> None:
    # Edith opens the demo and chooses to sign in; a button per provider is offered.
    page.goto("/")
    page.click("#id_login")
    page.click("text=Sign in with Dev")

    # The provider's page asks who she is; she says, and is sent back to the demo.
    expect(page.locator("h1")).to_have_text("Dev identity provider")
    page.fill("#email", "edith@example.com")
    page.click("button[type=submit]")

    expect(page.locator("nav")).to_contain_text("Signed in as edith@example.com")
    page.reload()
    expect(page.locator("nav")).to_contain_text("Signed in as edith@example.com")


def test_a_refused_sign_in_is_explained_in_words(page: Page) -> None:
    # Edith comes back from a provider that refused her (she cancelled there).
    page.goto("/?signet_error=access_denied")

    expect(page.locator("#id_error")).to_have_text(SIGN_IN_ERRORS["access_denied"])
    expect(page.locator("#id_login")).to_be_visible()
