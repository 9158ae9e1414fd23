"""A PostgreSQL server of the test's own, in a throwaway folder, so a test can stop and start it
mid-scenario without touching the machine's shared server."""

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

from sqlalchemy.engine import make_url

from tests.servers import free_port

POSTGRESQL_INSTALLS = Path("/usr/lib/postgresql")
# initdb and pg_ctl refuse to run as root, so they run as this user.
SERVER_USER = "postgres"
# Bounds every wait on the server: initdb, starting (until it accepts connections), stopping.
SERVER_TIMEOUT = 30


def postgres_bin_dir() -> Path | None:
    """The bin folder of the highest installed PostgreSQL version with initdb and pg_ctl."""
    versions = [
        path
        for path in POSTGRESQL_INSTALLS.glob("*/bin")
        if path.parent.name.replace(".", "").isdigit()
        and (path / "initdb").is_file()
        and (path / "pg_ctl").is_file()
    ]
    if not versions:
        return None
    return max(versions, key=lambda path: [int(part) for part in path.parent.name.split(".")])


def own_postgres_unavailable_reason() -> str | None:
    """Why OwnPostgres cannot run here, or None when it can."""
    if postgres_bin_dir() is None:
        return f"no PostgreSQL server binaries (initdb, pg_ctl) under {POSTGRESQL_INSTALLS}/*/bin"
    if os.geteuid() != 0:
        return f"not root: running the server as the {SERVER_USER} user through runuser needs root"
    if shutil.which("runuser") is None:
        return f"no runuser to run the server as the {SERVER_USER} user"
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        return f"no {SERVER_USER} user to run the server as"
    return None


class OwnPostgres:
    """A fresh cluster (user postgres, trust authentication) on 127.0.0.1 and a free port that
    stays the same across stop() and start(). Entering it starts the server; leaving it stops
    the server and removes the folder.

    The folder goes under `parent` (the system temporary folder by default), which the postgres
    user must be able to traverse: pytest's tmp_path is not (its root is mode 700), and the
    Unix socket path in the folder must stay under about 100 characters.
    """

    def __init__(self, parent: Path | None = None) -> None:
        reason = own_postgres_unavailable_reason()
        bin_dir, runuser = postgres_bin_dir(), shutil.which("runuser")
        if reason is not None or bin_dir is None or runuser is None:
            raise RuntimeError(reason)
        self._bin_dir = bin_dir
        self._runuser = runuser
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="own-postgres-", dir=parent))
        self._data = self.folder / "data"
        self._log = self.folder / "server.log"
        self._running = False
        try:
            user = pwd.getpwnam(SERVER_USER)
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            self._run(
                "initdb",
                *("-D", str(self._data), "-A", "trust", "-U", SERVER_USER, "--no-sync"),
                # Independent of the caller's LANG, which may name a locale not installed.
                *("--locale", "C", "--encoding", "UTF8"),
            )
            with (self._data / "postgresql.conf").open("a") as conf:
                conf.write(
                    f"listen_addresses = '127.0.0.1'\n"
                    f"port = {self.port}\n"
                    f"unix_socket_directories = '{self._data}'\n"
                    # A test's data need not survive a crash of the machine.
                    "fsync = off\n"
                    "synchronous_commit = off\n"
                    "full_page_writes = off\n"
                    "shared_buffers = 16MB\n"
                )
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://{SERVER_USER}@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Start the server and return once it accepts connections; nothing if it runs."""
        if self._running:
            return
        try:
            self._pg_ctl("start", "-l", str(self._log))
        except RuntimeError as error:
            # A start that timed out leaves a server behind; one that failed leaves none.
            self._pg_ctl("stop", "-m", "immediate", check=False)
            raise RuntimeError(f"{error}\nserver log:\n{self.log()}") from None
        self._running = True

    def stop(self) -> None:
        """Stop the server, ending open connections (fast mode); nothing if it is stopped."""
        if not self._running:
            return
        self._pg_ctl("stop", "-m", "fast")
        self._running = False

    def create_database(self, name: str) -> str:
        """Create database `name` on the running server; returns its URL."""
        self._run("createdb", "-h", str(self._data), "-p", str(self.port), "-U", SERVER_USER, name)
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def log(self) -> str:
        return self._log.read_text(errors="replace") if self._log.exists() else ""

    def close(self) -> None:
        """Stop the server and remove its folder."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _pg_ctl(self, action: str, *options: str, check: bool = True) -> None:
        arguments = (action, "-D", str(self._data), "-w", "-t", str(SERVER_TIMEOUT), *options)
        self._run("pg_ctl", *arguments, check=check)

    def _run(self, program: str, *arguments: str, check: bool = True) -> None:
        """Run one of the server's programs as the postgres user; when `check`, raise with its
        output if it fails."""
        try:
            subprocess.run(
                [self._runuser, "-u", SERVER_USER, "--", str(self._bin_dir / program), *arguments],
                # The caller's working folder may be closed to the postgres user.
                cwd=self.folder,
                check=check,
                capture_output=True,
                text=True,
                # pg_ctl bounds its own wait by SERVER_TIMEOUT; this bounds everything else.
                timeout=SERVER_TIMEOUT + 10,
            )
        except subprocess.CalledProcessError as error:
            raise RuntimeError(
                f"{program} failed with exit status {error.returncode}:\n"
                f"{error.stdout}{error.stderr}"
            ) from None
