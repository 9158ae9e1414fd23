"""deploy/nginx/signet.conf with Debian's nginx in front of Signet and a tiny application: what a
signed-out browser, a signed-in one and a forger each get, at / and at the administrators'
/admin/."""

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.nginx import echo_application, nginx_in_front
from tests.servers import REPO, Server, free_port

pytestmark = pytest.mark.nginx
COOKIE = "__Host-signet_session"


@pytest.fixture
def application() -> Iterator[int]:
    with echo_application() as port:
        yield port


@pytest.fixture
def signet(tmp_path: Path) -> Iterator[Server]:
    # Sessions come back re-issued after a second, so the test can see the refreshed cookie.
    server = Server(
        tmp_path,
        environment={"SIGNET_SESSION_IDLE_TIMEOUT": "100", "SIGNET_SESSION_REFRESH_AFTER": "0.01"},
    )
    yield server
    server.stop()


@pytest.fixture
def nginx(tmp_path: Path, signet: Server, application: int) -> Iterator[str]:
    """nginx on a free port, with the shipped server block pointed at Signet and the app."""
    address = signet.url.removeprefix("http://")
    with nginx_in_front(tmp_path, signet=address, application=application, port=free_port()) as url:
        yield url


def signed_in(signet: Server, email: str = "edith@example.com") -> str:
    """A session cookie for `email` (edith by default), from Signet's development identity
    provider."""
    assertion = httpx.post(f"{signet.url}/dev-idp/assertions", json={"email": email}).json()[
        "assertion"
    ]
    response = httpx.post(f"{signet.url}/auth/login", json={"assertion": assertion})
    assert response.status_code == 200
    return response.cookies[COOKIE]


def test_a_signed_out_browser_is_sent_to_the_sign_in_page(nginx: str) -> None:
    response = httpx.get(f"{nginx}/reports/2026")

    assert response.status_code == 302
    assert response.headers["location"].endswith("/auth/sign-in?return_to=/reports/2026")


def test_a_signed_in_request_reaches_the_application_with_the_email(
    nginx: str, signet: Server
) -> None:
    cookie = signed_in(signet)

    response = httpx.get(f"{nginx}/reports", cookies={COOKIE: cookie})

    assert response.status_code == 200
    seen = response.json()
    assert seen["x-signet-email"] == "edith@example.com"
    assert seen["x-signet-email-verified"] == "true"


def test_a_forged_identity_never_reaches_the_application(nginx: str, signet: Server) -> None:
    forged = {"X-Signet-Email": "admin@example.com", "X-Signet-Email-Verified": "true"}
    signed_out = httpx.get(f"{nginx}/", headers=forged)
    cookie = signed_in(signet)

    seen = httpx.get(f"{nginx}/", headers=forged, cookies={COOKIE: cookie}).json()

    assert signed_out.status_code == 302
    assert seen["x-signet-email"] == "edith@example.com"


def test_forged_groups_never_reach_the_application(nginx: str, signet: Server) -> None:
    forged = {"X-Signet-Groups": "admins", "X-Signet-Email": "admin@example.com"}
    cookie = signed_in(signet)  # edith, in no group

    seen = httpx.get(f"{nginx}/", headers=forged, cookies={COOKIE: cookie}).json()
    admin = httpx.get(f"{nginx}/admin/", headers=forged, cookies={COOKIE: cookie})

    # Signet's empty header replaced the forged one, and nginx passes an empty one on not at all.
    assert "x-signet-groups" not in seen
    assert seen["x-signet-email"] == "edith@example.com"
    assert admin.status_code == 403


def add_to_groups(signet: Server, email: str, *groups: str) -> None:
    """As an operator does: `signet groups add`, with the server's database."""
    subprocess.run(
        [sys.executable, "-m", "api.cli", "groups", "add", email, *groups],
        cwd=REPO,
        env=signet.environment,
        check=True,
        capture_output=True,
    )


def test_an_administrator_gets_the_admin_pages_with_the_groups(nginx: str, signet: Server) -> None:
    cookie = signed_in(signet, "ada@example.com")
    add_to_groups(signet, "ada@example.com", "admins", "staff")

    response = httpx.get(
        f"{nginx}/admin/users", headers={"X-Signet-Groups": "forged"}, cookies={COOKIE: cookie}
    )
    everywhere = httpx.get(f"{nginx}/reports", cookies={COOKIE: cookie}).json()

    assert response.status_code == 200
    assert response.json()["x-signet-groups"] == "admins,staff"
    assert response.json()["x-signet-email"] == "ada@example.com"
    assert everywhere["x-signet-groups"] == "admins,staff"


def test_a_user_outside_the_group_gets_a_page_saying_so(nginx: str, signet: Server) -> None:
    cookie = signed_in(signet, "bob@example.com")
    add_to_groups(signet, "bob@example.com", "staff")

    response = httpx.get(f"{nginx}/admin/users", cookies={COOKIE: cookie})
    bare = httpx.get(f"{nginx}/admin", cookies={COOKIE: cookie})
    doubled = httpx.get(f"{nginx}//admin/users", cookies={COOKIE: cookie})

    assert response.status_code == 403
    # Not through / past the rule: nginx sends /admin on to /admin/, and merges the slashes.
    assert bare.status_code == 301
    assert bare.headers["location"].endswith("/admin/")
    assert doubled.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "You are signed in, but this page is for administrators" in response.text
    assert httpx.get(f"{nginx}/reports", cookies={COOKIE: cookie}).status_code == 200


def test_a_signed_out_browser_at_the_admin_pages_is_sent_to_sign_in(nginx: str) -> None:
    response = httpx.get(f"{nginx}/admin/users", headers={"X-Signet-Groups": "admins"})

    assert response.status_code == 302
    assert response.headers["location"].endswith("/auth/sign-in?return_to=/admin/users")


def test_logout_ends_access_on_the_next_request(nginx: str, signet: Server) -> None:
    cookie = signed_in(signet)
    assert httpx.get(f"{nginx}/", cookies={COOKIE: cookie}).status_code == 200

    logout = httpx.post(f"{nginx}/auth/logout", cookies={COOKIE: cookie})

    assert logout.status_code == 204
    assert httpx.get(f"{nginx}/", cookies={COOKIE: cookie}).status_code == 302


def test_a_refreshed_session_cookie_reaches_the_browser(nginx: str, signet: Server) -> None:
    cookie = signed_in(signet)
    deadline = time.monotonic() + 10
    while True:  # the session passes its refresh point after a second: poll until it has
        response = httpx.get(f"{nginx}/", cookies={COOKIE: cookie})
        if "set-cookie" in response.headers or time.monotonic() > deadline:
            break
        time.sleep(0.1)

    assert response.status_code == 200
    assert response.headers["set-cookie"].startswith(f"{COOKIE}=")
    assert "HttpOnly" in response.headers["set-cookie"]


def test_an_emailed_links_token_stays_out_of_the_access_log(nginx: str, tmp_path: Path) -> None:
    link = httpx.get(f"{nginx}/auth/email/verify", params={"token": "one-time-token-0123"})
    providers = httpx.get(f"{nginx}/auth/providers")

    logged = (tmp_path / "nginx" / "logs" / "access.log").read_text()
    assert link.headers["content-type"] == "application/problem+json"  # Signet answered
    assert providers.status_code == 200
    assert "GET /auth/providers" in logged
    assert "one-time-token-0123" not in logged
