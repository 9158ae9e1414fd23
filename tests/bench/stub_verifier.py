"""A minimal Persona verifier for the benchmark: vouches that the assertion is its own email.

A raw ASGI app, so that it costs as little as possible on its core: `uvicorn
tests.bench.stub_verifier:app`. The audience is echoed back, so any Signet audience works.
"""

import json
from urllib.parse import parse_qs

from starlette.types import Receive, Scope, Send

FAR_FUTURE_MS = 4_102_444_800_000  # 2100-01-01


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    form = parse_qs(body.decode())
    answer = {
        "status": "okay",
        "email": form.get("assertion", [""])[0],
        "audience": form.get("audience", [""])[0],
        "expires": FAR_FUTURE_MS,
        "issuer": "bench-stub",
    }
    payload = json.dumps(answer).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(payload)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
