"""The examples' tests use Signet's own fixtures (a database per test, settings)."""

from tests.conftest import database_url, engine, settings

__all__ = ["database_url", "engine", "settings"]
