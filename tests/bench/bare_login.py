"""The login's ceiling: a bare Starlette app that only asks the same stub verifier and sets a
signed cookie, served as Signet is.

`uvicorn tests.bench.bare_login:app`, configured by the variables Signet reads:
SIGNET_VERIFIER_URL, SIGNET_AUDIENCE and SIGNET_SECRET_KEY. `POST /login` takes Signet's body
(`{"assertion": …}`), posts the assertion and audience to the verifier through one pooled httpx
client, as Signet's Persona provider does, and answers the email with an itsdangerous-signed
session cookie. No database, no limits, no checks beyond the verifier's "okay".
"""

import os
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from itsdangerous import URLSafeTimedSerializer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

VERIFIER_URL = os.environ.get("SIGNET_VERIFIER_URL", "http://127.0.0.1:9/verify")
AUDIENCE = os.environ.get("SIGNET_AUDIENCE", "https://app.example")
SIGNER = URLSafeTimedSerializer(
    os.environ.get("SIGNET_SECRET_KEY", "bench"), salt="signet.session.cookie"
)
COOKIE = "__Host-signet_session"
MAX_AGE = 14 * 24 * 3600
client: httpx.AsyncClient | None = None


async def login(request: Request) -> JSONResponse:
    assert client is not None
    body = await request.json()
    answer = await client.post(
        VERIFIER_URL, data={"assertion": body["assertion"], "audience": AUDIENCE}
    )
    verified = answer.json()
    if verified.get("status") != "okay":
        return JSONResponse({"detail": "rejected"}, status_code=401)
    token = SIGNER.dumps([secrets.token_urlsafe(16), int(time.time())])
    response = JSONResponse({"email": verified["email"]})
    response.set_cookie(COOKIE, token, max_age=MAX_AGE, secure=True, httponly=True)
    return response


@asynccontextmanager
async def lifespan(_app: Starlette) -> AsyncIterator[None]:
    global client
    async with httpx.AsyncClient(timeout=5) as client:
        yield


app = Starlette(routes=[Route("/login", login, methods=["POST"])], lifespan=lifespan)
