"""Installed from a wheel (not editable, not a checkout), `signet migrate` finds its migrations
and the browser client is there to serve."""

import os
import subprocess
import sys
from pathlib import Path

from tests.servers import REPO


def test_a_wheel_carries_the_migrations_and_signet_migrate_uses_them(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp_path / "dist", REPO],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("signet-*.whl")
    installed = tmp_path / "installed"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", installed, wheel],
        check=True,
        capture_output=True,
    )
    elsewhere = tmp_path / "elsewhere"  # no alembic.ini here or beside the package
    elsewhere.mkdir()
    database = elsewhere / "signet.db"

    migrated = subprocess.run(
        [sys.executable, "-c", "import sys; from api.cli import main; sys.exit(main(['migrate']))"],
        cwd=elsewhere,
        env={
            **os.environ,
            "PYTHONPATH": str(installed),
            "SIGNET_ENV": "development",
            "SIGNET_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        },
        capture_output=True,
        text=True,
        check=False,
    )

    assert migrated.returncode == 0, migrated.stderr
    # The browser client, which /auth/client.js serves in production, is not Python: shipped too.
    for name in ("client.js", "client.d.ts"):
        shipped = installed / "api" / "web" / "client" / name
        assert shipped.read_bytes() == (REPO / "api" / "web" / "client" / name).read_bytes()
    assert "Running upgrade 0006 -> 0007" in migrated.stderr
    assert (
        str(installed)
        in subprocess.run(
            [sys.executable, "-c", "import api; print(api.__file__)"],
            cwd=elsewhere,
            env={**os.environ, "PYTHONPATH": str(installed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
