"""A single-page app on another origin than Signet's: one static page, served by a loopback
server of the test's own, that imports Signet's client from Signet and nothing else."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from playwright.sync_api import Page

from tests.servers import Server

# The page knows Signet's URL and loads /auth/client.js from it: a cross-origin module, which
# Chromium fetches with CORS (Signet allows the SPA's origin).
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>An SPA elsewhere</title>
<script type="module">
import * as client from "{signet}/auth/client.js";
window.client = client;
window.signetUrl = "{signet}";
window.changes = [];
</script></head><body><h1>An SPA elsewhere</h1>
<label>Email <input name="email" autocomplete="username webauthn"></label></body></html>
"""


class Spa:
    """The app at http://localhost:<port>, on 127.0.0.1; `signet` is set once Signet runs."""

    def __init__(self) -> None:
        self.signet = ""
        spa = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = PAGE.format(signet=spa.signet).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the test says what matters

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://localhost:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def open(self, page: Page, path: str = "/", *, transport: str = "cookie") -> None:
        """Load the app in `page` and make `window.signet`, whose onChange calls are kept in
        `window.changes` (the email signed in, or null)."""
        page.goto(f"{self.url}{path}")
        page.wait_for_function("() => window.client !== undefined")
        page.evaluate(
            """(transport) => {
                window.signet = client.createSignet({ baseUrl: signetUrl, transport });
                signet.onChange((user) => changes.push(user && user.email));
            }""",
            transport,
        )

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def refusal(page: Page, expression: str, argument: Any = None) -> dict[str, Any] | None:
    """What `expression` (awaited, with `argument` as `arg`) threw, as plain fields; None if it
    did not throw."""
    thrown: dict[str, Any] | None = page.evaluate(
        f"""async (arg) => {{
            try {{
                await {expression};
                return null;
            }} catch (error) {{
                return {{
                    name: error.name,
                    signetError: error instanceof client.SignetError,
                    type: error.type,
                    status: error.status,
                    title: error.title,
                    detail: error.detail,
                    message: error.message,
                }};
            }}
        }}""",
        argument,
    )
    return thrown


EDITH = "edith@example.com"


def assertion_for(server: Server, email: str) -> str:
    """What an identity provider's script would hand the SPA (here the development one's)."""
    answer = httpx.post(f"{server.url}/dev-idp/assertions", json={"email": email})
    assertion: str = answer.raise_for_status().json()["assertion"]
    return assertion


def sign_in_with_assertion(page: Page, server: Server, email: str = EDITH) -> Any:
    return page.evaluate(
        "(assertion) => signet.signInWithAssertion(assertion, { provider: 'persona' })",
        assertion_for(server, email),
    )


def changes(page: Page) -> list[str | None]:
    seen: list[str | None] = page.evaluate("() => changes")
    return seen


def session_cookies(page: Page, server: Server) -> list[str]:
    return [cookie["name"] for cookie in page.context.cookies(server.url)]
