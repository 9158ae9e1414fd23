"""`signet dev` behind deploy/nginx/signet.conf, as docs/operations.md's recipe runs it: the
shipped config, `SIGNET_PUBLIC_URL` set to nginx's address, nothing else. Chromium signs in with
the development provider's redirect flow and never leaves nginx's origin.

Marked nginx (run with `pytest -m nginx`); it needs Chromium as well, and says so without it."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.nginx import echo_application, nginx_in_front
from tests.servers import SERVER_START_TIMEOUT, free_port, wait_until_healthy

pytestmark = pytest.mark.nginx
SIGNET = str(Path(sys.executable).with_name("signet"))


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[str]:
    """nginx's URL, with `signet dev` behind it, started from an empty folder."""
    nginx_port, signet_port = free_port(), free_port()
    public_url = f"http://localhost:{nginx_port}"
    # The recipe's settings alone: none of the environment's SIGNET_* variables.
    environment = {name: value for name, value in os.environ.items() if "SIGNET_" not in name}
    environment["SIGNET_PUBLIC_URL"] = public_url
    log_path = tmp_path / "signet-dev.log"
    with (
        echo_application() as application,
        nginx_in_front(
            tmp_path, signet=f"127.0.0.1:{signet_port}", application=application, port=nginx_port
        ) as url,
        log_path.open("wb") as log,
    ):
        assert url == public_url
        process = subprocess.Popen(
            [SIGNET, "dev", "--port", str(signet_port)],
            cwd=tmp_path,  # where it keeps its signet-dev.db
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_healthy(
                f"http://127.0.0.1:{signet_port}", process, log_path, timeout=SERVER_START_TIMEOUT
            )
            yield url
        finally:
            process.terminate()
            process.wait(timeout=15)


def test_edith_signs_in_with_the_dev_provider_through_nginx(browser: Browser, proxy: str) -> None:
    context = browser.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))

    # Signed out, the application's page sends Edith to the sign-in page, through nginx.
    page.goto(f"{proxy}/reports/2026")
    expect(page.locator("h1")).to_have_text("Sign in to localhost")
    page.click("text=Sign in with Dev")

    # The development provider's page, at nginx's address; she says who she is.
    expect(page.locator("h1")).to_have_text("Dev identity provider")
    page.fill("#email", "edith@example.com")
    page.click("button[type=submit]")

    # Back at the application's page, which nginx now lets through with her email.
    page.wait_for_url(f"{proxy}/reports/2026")
    assert '"x-signet-email": "edith@example.com"' in page.inner_text("body")
    assert asked
    assert [url for url in asked if not url.startswith(f"{proxy}/")] == []
    context.close()
