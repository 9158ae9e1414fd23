"""A real uvicorn server and Debian's Chromium, driven by Playwright.

Run with `pytest -m browser`. Without Chromium (`apt-get install chromium`) the tests are skipped
and say so. A failing test leaves a screenshot, the page text and the server log in
`test-results/<test name>/`.
"""

import os
import re
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.spa import Spa
from tests.servers import Server
from tests.smtp_server import SmtpSink

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    path = os.environ.get("SIGNET_TEST_CHROMIUM") or shutil.which("chromium")
    if path is None:
        pytest.skip("Debian's chromium is not on the PATH (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = _chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def spa() -> Iterator[Spa]:
    """A single-page app on another origin, http://localhost:<its own port>."""
    spa = Spa()
    yield spa
    spa.stop()


@pytest.fixture
def spa_mail() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def spa_server(tmp_path: Path, spa: Spa, spa_mail: SmtpSink) -> Iterator[Server]:
    """Signet for `spa`: development's providers (dev's redirect flow, Persona, email), its mail
    to `spa_mail`, and the SPA's origin allowed (CORS with credentials, its state changes, its
    passkey ceremonies: localhost is the RP ID). A module uses it as its `server`."""
    environment = {
        "SIGNET_SMTP_URL": f"smtp://127.0.0.1:{spa_mail.port}",
        "SIGNET_ALLOWED_ORIGINS": spa.url,
    }
    server = Server(tmp_path, default_providers=True, environment=environment)
    spa.signet = server.url
    yield server
    server.stop()


_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # Keep each phase's report where the `page` fixture can see whether the test failed.
    report = yield
    item.stash.setdefault(_REPORTS, {})[call.when] = report
    return report


@pytest.fixture
def page(browser: Browser, server: Server, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context (no cookies) on the server; evidence is saved if the test fails."""
    context = browser.new_context(base_url=server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    call = request.node.stash.get(_REPORTS, {}).get("call")
    if call is not None and call.failed:
        _save_evidence(page, server, request.config.rootpath, request.node.name)
    context.close()


def _save_evidence(page: Page, server: Server, root: Path, test_name: str) -> None:
    folder = root / "test-results" / re.sub(r"[^\w.-]+", "_", test_name)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=folder / "screenshot.png", full_page=True)
    (folder / "page.txt").write_text(f"{page.url}\n\n{page.inner_text('body')}")
    (folder / "server.log").write_text(server.log())
    print(f"\nbrowser evidence saved in {folder}")
