"""Signet served for real: a uvicorn process on a free loopback port, for end-to-end tests."""

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
SERVER_START_TIMEOUT = 30.0


def free_port() -> int:
    """A loopback port nothing listens on now (a server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """A uvicorn process serving Signet in development mode, on a fresh SQLite file unless
    `environment` says otherwise; `environment` overrides the defaults below, and
    `default_providers` keeps development's own providers (the redirect flow and Persona)."""

    def __init__(
        self,
        directory: Path,
        *,
        name: str = "server",
        environment: dict[str, str] | None = None,
        migrate: bool = True,
        default_providers: bool = False,
    ) -> None:
        self.log_path = directory / f"{name}.log"
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        # By name: WebAuthn refuses an IP address as the passkeys' RP ID.
        self.url = f"http://localhost:{listener.getsockname()[1]}"
        self.environment = {
            **os.environ,
            "SIGNET_ENV": "development",
            "SIGNET_DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'signet.db'}",
            "SIGNET_SECRET_KEY": secrets.token_urlsafe(32),
            "SIGNET_AUDIENCE": self.url,
            "SIGNET_PUBLIC_URL": self.url,
            # One Persona provider, unless the development defaults (dev and persona) are asked.
            **({} if default_providers else {"SIGNET_VERIFIER_URL": f"{self.url}/dev-idp/verify"}),
            **(environment or {}),
        }
        if migrate:
            subprocess.run(
                [sys.executable, "-m", "alembic", "upgrade", "head"],
                cwd=REPO,
                env=self.environment,
                check=True,
                capture_output=True,
            )
        # The test binds the port and hands the socket over, so no other process can take it.
        command = [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app"]
        # As `signet serve` runs it: with the guard on request heads.
        command += ["--http", "api.web.http_protocol:GuardedHttpToolsProtocol"]
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
        wait_until_healthy(self.url, self.process, self.log_path)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def wait_until_healthy(
    url: str, process: subprocess.Popen[bytes], log_path: Path, *, timeout: float = 0
) -> None:
    """Until the server at `url` answers /healthz; its log in the error if it exits or does not
    within `timeout` seconds (SERVER_START_TIMEOUT unless given)."""
    deadline = time.monotonic() + (timeout or SERVER_START_TIMEOUT)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited:\n{log_path.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)  # polling a condition, bounded by the deadline
    raise RuntimeError(f"server did not become healthy:\n{log_path.read_text(errors='replace')}")
