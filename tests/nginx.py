"""Debian's nginx with deploy/nginx/signet.conf, on a free port in a folder of the test's own,
in front of a Signet and a tiny application that answers with the headers it was sent."""

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.servers import REPO

CONFIG = REPO / "deploy" / "nginx" / "signet.conf"


class Echo(BaseHTTPRequestHandler):
    """The application: answers with the headers it was sent."""

    def do_GET(self) -> None:
        body = json.dumps({name.lower(): value for name, value in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@contextmanager
def echo_application() -> Iterator[int]:
    """The application, on a free loopback port (yielded)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def nginx_in_front(directory: Path, *, signet: str, application: int, port: int) -> Iterator[str]:
    """nginx on 127.0.0.1:`port` with the shipped server block, its upstreams changed to
    `signet` (host:port) and the application; yields its URL once it answers. Its logs are in
    `directory`/nginx/logs."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        pytest.skip("nginx is not installed (apt-get install nginx)")
    site = (
        CONFIG.read_text()
        .replace("server 127.0.0.1:8000;", f"server {signet};")
        .replace("server 127.0.0.1:3000;", f"server 127.0.0.1:{application};")
        .replace("listen 8080;", f"listen 127.0.0.1:{port};")
    )
    prefix = directory / "nginx"
    (prefix / "logs").mkdir(parents=True)
    (prefix / "site.conf").write_text(site)
    (prefix / "nginx.conf").write_text(
        f"""
        daemon off;
        pid {prefix}/nginx.pid;
        error_log {prefix}/logs/error.log;
        events {{ worker_connections 64; }}
        http {{
            access_log {prefix}/logs/access.log;
            client_body_temp_path {prefix}/body;
            proxy_temp_path {prefix}/proxy;
            include {prefix}/site.conf;
        }}
        """
    )
    process = subprocess.Popen(
        [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # nginx writes its errors to logs/error.log
    )
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:  # wait for the condition: nginx answers (a 502 too, Signet yet to start)
            try:
                httpx.get(f"{url}/auth/providers", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((prefix / "logs" / "error.log").read_text()) from None
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
