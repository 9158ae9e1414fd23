"""The access log: a request id for every request, one line and one count for every answer,
and the answer to an error nothing else handled: a 500 problem that names the request id."""

import logging
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.observability.access_log import AccessLog
from api.observability.logs import request_id, request_id_for
from api.observability.metrics import Metrics
from api.web.problems import internal_error_response

logger = logging.getLogger("signet")


class RequestLogMiddleware:
    """Gives each request an id (an incoming valid X-Request-ID, or a new one), returns it in
    X-Request-ID, and logs one line when the response starts: method, path, status, duration."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, access_log: AccessLog) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        current = request_id_for(Headers(scope=scope).get("x-request-id"))
        reset = request_id.set(current)
        started = time.perf_counter()
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                MutableHeaders(scope=message)["X-Request-ID"] = current
                route = scope.get("route")
                self.metrics.request(
                    route=getattr(route, "path", "unmatched"),
                    method=scope["method"],
                    status=message["status"],
                )
                self.access_log.answered(
                    request_id=current,
                    method=scope["method"],
                    path=scope["path"],
                    status=message["status"],
                    started=started,
                )
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception("unexpected error answering %s %s", scope["method"], scope["path"])
            if response_started:  # too late for a problem: the client sees a cut answer
                raise
            await internal_error_response(current)(scope, receive, send_with_id)
        finally:
            request_id.reset(reset)
