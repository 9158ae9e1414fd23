"""A real uvicorn server and Debian's Chromium, driven by Playwright.

Run with `pytest -m browser`. Without Chromium (`apt-get install chromium`) the tests are skipped
and say so. A failing test leaves a screenshot, the page text and the server log in
`test-results/<test name>/`.
"""

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT = 30.0


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


class Server:
    """A uvicorn process serving Signet in development mode on a fresh SQLite file."""

    def __init__(self, directory: Path) -> None:
        self.log_path = directory / "server.log"
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        self.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        self.environment = {
            **os.environ,
            "SIGNET_ENV": "development",
            "SIGNET_DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'signet.db'}",
            "SIGNET_SECRET_KEY": secrets.token_urlsafe(32),
            "SIGNET_AUDIENCE": self.url,
            "SIGNET_VERIFIER_URL": f"{self.url}/dev-idp/verify",
        }
        subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=REPO,
            env=self.environment,
            check=True,
            capture_output=True,
        )
        # The test binds the port and hands the socket over, so no other process can take it.
        command = [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*command, "--fd", str(listener.fileno())],
                cwd=REPO,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=[listener.fileno()],
            )
        listener.close()
        self._wait_until_healthy()

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)  # polling a condition, bounded by the deadline
        raise RuntimeError(f"server did not become healthy:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path)
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
