"""Schemathesis against Signet's own /openapi.json: no server errors, no undocumented answers.

Run with `pytest -m schema` (CI does). Schemathesis needs the app when the module is imported, so
this module builds it then, on a database of its own made then too.
"""

import asyncio
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api.app import create_app
from api.config import Settings
from api.testing import FakeProvider
from api.web.deps import get_provider
from tests.apps import APP_ORIGIN, VERIFIER_URL
from tests.databases import engine_with_tables, sqlite_url
from tests.servers import free_port

pytestmark = pytest.mark.schema

DATABASE_URL = sqlite_url(Path(tempfile.mkdtemp(prefix="signet-schema-")))


async def _make_tables() -> None:
    async with engine_with_tables(DATABASE_URL):
        pass


asyncio.run(_make_tables())
verifier = FakeProvider()
verifier.accept("good", email="edith@example.com")
app = create_app(
    Settings(
        env="production",
        database_url=DATABASE_URL,
        secret_key="conformance-secret-key-0123456789abcdef",
        providers="persona,email",
        provider_variables={
            "SIGNET_PROVIDER_PERSONA_KIND": "persona",
            "SIGNET_PROVIDER_PERSONA_VERIFIER_URL": VERIFIER_URL,
        },
        public_url=APP_ORIGIN,
        # Nothing listens there: a start is a documented 503, every other email route runs.
        smtp_url=f"smtp://127.0.0.1:{free_port()}",
        email_from="no-reply@app.example",
        rate_limit_per_address=0,
        rate_limit_per_identity=0,
        docs=True,
    )
)
app.dependency_overrides[get_provider] = lambda: verifier
schema = schemathesis.openapi.from_asgi("/openapi.json", app)
# A return_to the schema allows may still be off the configured allow-list (a 400), an email
# address of the right format may still be refused (a special-use domain, say: a 422), and a
# gateway rule's values may still be empty within a comma-separated list (a 400).
ALLOW_LISTED = {
    "/auth/check",
    "/auth/sign-in",
    "/auth/providers/{name}/start",
    "/auth/email/start",
    "/auth/email/verify",
    "/auth/email/token",
    "/auth/sign-in/email",
    "/auth/sign-in/email/code",
}


@schema.parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_documented_contract(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
    # Every default check but one: schemathesis wants a schema-violating body rejected with a
    # status from its own list, which lacks 413, the right answer to a body that is too long.
    excluded = [schemathesis.checks.negative_data_rejection]
    if case.operation.path in ALLOW_LISTED:
        excluded.append(schemathesis.checks.positive_data_acceptance)
    case.call_and_validate(excluded_checks=excluded)
