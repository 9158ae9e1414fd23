"""`signet serve` and `signet dev`: uvicorn over the app factory, after one look at the
database; a development server's settings bound to how it was started."""

import argparse
import asyncio
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from api.commands.database import migrate
from api.commands.exits import EXIT_OK
from api.config import Settings
from api.observability.metrics import MULTIPROCESS_DIRECTORY
from api.store.db import create_engine
from api.urls import LOOPBACK_HOSTS


def serve(arguments: argparse.Namespace, settings: Settings) -> int:
    _before_serving(arguments, settings)
    return _run_uvicorn(arguments, settings)


def dev(arguments: argparse.Namespace, settings: Settings) -> int:
    _before_serving(arguments, settings)
    migrated = migrate(arguments, settings)
    if migrated != EXIT_OK:
        return migrated
    return _run_uvicorn(arguments, settings)


def _before_serving(arguments: argparse.Namespace, settings: Settings) -> None:
    if settings.is_development and "SIGNET_SECRET_KEY" not in arguments.environment_before:
        if arguments.workers > 1:
            key = "the workers share a generated key"
        else:
            key = "the server signs with a generated key"
        print(
            f"signet: SIGNET_SECRET_KEY is unset: {key}, and sessions end when the server stops",
            file=sys.stderr,
        )
    asyncio.run(_reach_database(settings))


async def _reach_database(settings: Settings) -> None:
    """Connect once before serving, so that a database out of reach is one line at start,
    not a traceback from every worker."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        folder = Path(url.database).parent
        if not folder.is_dir():  # asked here: aiosqlite's thread would report it after we left
            raise FileNotFoundError(f"no folder {folder} for the SQLite file")
    engine = create_engine(settings.database_url, connect_timeout=settings.database_connect_timeout)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


def bound_environment(arguments: argparse.Namespace, *, development: bool) -> dict[str, str]:
    """What a development server takes from how it was started, to export before the settings
    are read so that every worker reads the same: its URLs follow the address and port it binds
    (never a request's Host header), and its workers share one generated secret key."""
    bound = {"SIGNET_ENV": "development"} if development else {}
    if development and "SIGNET_COOKIE_SECURE" not in os.environ:
        bound["SIGNET_COOKIE_SECURE"] = "false"
    if development and "SIGNET_DATABASE_URL" not in os.environ:
        # Not production's default file: a production start must never find development's users.
        bound["SIGNET_DATABASE_URL"] = "sqlite+aiosqlite:///./signet-dev.db"
    if {**os.environ, **bound}.get("SIGNET_ENV", "production").strip() != "development":
        return bound
    # Bound to every interface: the URLs name this machine as it names itself.
    wildcard = arguments.host in ("0.0.0.0", "::", "")  # noqa: S104
    # Loopback by name: WebAuthn refuses an IP address as the passkeys' RP ID.
    host = "localhost" if wildcard or arguments.host in LOOPBACK_HOSTS else arguments.host
    host = f"[{host}]" if ":" in host else host
    if "SIGNET_PUBLIC_URL" not in os.environ:
        bound["SIGNET_PUBLIC_URL"] = f"http://{host}:{arguments.port}"
    if "SIGNET_SECRET_KEY" not in os.environ:
        bound["SIGNET_SECRET_KEY"] = secrets.token_urlsafe(32)
    return bound


@contextmanager
def exported(variables: dict[str, str]) -> Iterator[None]:
    """`variables` in the environment (which worker processes inherit) until the command ends."""
    before = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _run_uvicorn(arguments: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from api.web.http_protocol import GuardedHttpToolsProtocol

    with _metrics_of_all_workers(settings.metrics and arguments.workers > 1):
        uvicorn.run(
            "api.app:create_app",
            factory=True,
            host=arguments.host,
            port=arguments.port,
            workers=arguments.workers,
            # httptools, with request heads bounded in size and time (uvicorn bounds neither).
            http=GuardedHttpToolsProtocol,
            # Signet reads X-Forwarded-For itself, from SIGNET_TRUSTED_PROXIES only.
            proxy_headers=False,
            server_header=False,
            access_log=False,  # Signet logs each request itself, with its request id
        )
    return EXIT_OK


@contextmanager
def _metrics_of_all_workers(several_workers: bool) -> Iterator[None]:
    """With several workers, have them share a directory for their metrics, so that /metrics on
    any of them answers the totals of all (prometheus_client's multiprocess mode).

    The directory is the operator's PROMETHEUS_MULTIPROC_DIR if set (used as found: clearing it
    between runs is theirs to do); else a new private one (mkdtemp: empty, mode 0700), removed
    when the server stops. Exported before uvicorn spawns the workers, which inherit it: it must
    be set before prometheus_client is imported.
    """
    if not several_workers or MULTIPROCESS_DIRECTORY in os.environ:
        yield
        return
    directory = tempfile.mkdtemp(prefix="signet-metrics-")
    os.environ[MULTIPROCESS_DIRECTORY] = directory
    try:
        yield
    finally:
        del os.environ[MULTIPROCESS_DIRECTORY]
        shutil.rmtree(directory, ignore_errors=True)
