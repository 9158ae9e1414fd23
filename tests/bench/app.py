"""Signet as the benchmark serves it, plus a reference route: a login that only calls the provider.

`uvicorn --factory tests.bench.app:create_bench_app`, configured by SIGNET_* variables.
"""

from fastapi import FastAPI

from api.app import create_app
from api.web.deps import ProviderDep
from api.web.schemas import LoginRequest


def create_bench_app() -> FastAPI:
    app = create_app()

    @app.post("/bench/verify-only", include_in_schema=False)
    async def verify_only(body: LoginRequest, provider: ProviderDep) -> dict[str, str]:
        """The provider round trip alone, through the same injected client as /auth/login."""
        identity = await provider.verify(body.assertion)
        return {"email": identity.email}

    return app
