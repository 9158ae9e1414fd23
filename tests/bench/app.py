"""Signet as the benchmark serves it, plus a reference route: a login that only calls the provider.

`uvicorn --factory tests.bench.app:create_bench_app`, configured by SIGNET_* variables. With
BENCH_WITHOUT_WRITES=1 (and the rate limits off), a login writes nothing: no user, no
session row; it answers as if the sign-in writer had. Only to measure what those writes cost.
"""

import os
from datetime import timedelta

from fastapi import FastAPI

from api.app import create_app
from api.auth.sessions import Sessions
from api.store.sessions import StartedSession, new_session_id
from api.store.sign_in_writer import Account, Login, WrittenSignIn
from api.store.tables import UserPublic
from api.web.deps import ProviderDep
from api.web.schemas import LoginRequest


async def _start_without_writes(_sessions: Sessions, login: Login) -> WrittenSignIn:
    user = UserPublic(email=login.email, created_at=login.now, last_login=login.now)
    started = StartedSession(
        id=new_session_id(),
        email=login.email,
        created_at=login.now,
        expires_at=login.now + timedelta(seconds=login.lifetime),
        provider=login.claim.provider if login.claim else None,
        kind=login.kind,
        user_agent=login.user_agent,
        address=login.address,
        last_seen=login.now,
    )
    return user, started, Account(login.email)


def create_bench_app() -> FastAPI:
    if os.environ.get("BENCH_WITHOUT_WRITES") == "1":
        Sessions.start = _start_without_writes  # type: ignore[method-assign,assignment]
    app = create_app()

    @app.post("/bench/verify-only", include_in_schema=False)
    async def verify_only(body: LoginRequest, provider: ProviderDep) -> dict[str, str]:
        """The provider round trip alone, through the same injected client as /auth/login."""
        identity = await provider.verify(body.assertion)
        return {"email": identity.email}

    return app
