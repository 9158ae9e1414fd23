"""The access log: a request id for every request, one line and one count for every answer."""

import logging
import re
import secrets
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.observability.logs import request_id
from api.observability.metrics import Metrics

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")

access_logger = logging.getLogger("signet.access")


class RequestLogMiddleware:
    """Gives each request an id (an incoming valid X-Request-ID, or a new one), returns it in
    X-Request-ID, and logs one line when the response starts: method, path, status, duration."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        current = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else secrets.token_hex(8)
        reset = request_id.set(current)
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-ID"] = current
                route = scope.get("route")
                self.metrics.request(
                    route=getattr(route, "path", "unmatched"),
                    method=scope["method"],
                    status=message["status"],
                )
                access_logger.info(
                    "%s %s %d",
                    scope["method"],
                    scope["path"],  # never the query string: it may carry secrets
                    message["status"],
                    extra={
                        "request_id": current,
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": message["status"],
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(reset)
