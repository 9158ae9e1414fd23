"""SignetApp: FastAPI, with a front door for the questions asked on almost every request: may
this request pass (`/auth/check`, for gateways) and who is signed in (`/auth/me`, for SPAs).

Their answers skip FastAPI's routing, dependency resolution and middleware and go out as raw
ASGI messages, with a request id, logged and counted like every other answer, and with the
headers the CORS middleware would have added (the same `CorsPolicy`): a SPA on an allowed
origin, which sends Origin and its cookie on every call, is answered here too. Each path also
has an ordinary route, which gives byte for byte the same answer (tests/test_front_door.py) and
serves the OpenAPI document; preflights (OPTIONS) and every other method go that way.
"""

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.types import Receive, Scope, Send

from api.observability.access_log import AccessLog
from api.observability.logs import request_id, request_id_for
from api.observability.metrics import Metrics
from api.services import Services, services_of
from api.store.db import is_missing_table
from api.web.middleware.cors import CorsPolicy
from api.web.problems import (
    DATABASE_UNAVAILABLE,
    database_unavailable_response,
    internal_error_response,
)

logger = logging.getLogger("signet")


@dataclass(frozen=True, slots=True)
class Asked:
    """What a front-door answer reads of a request: the headers that carry a session, and the
    query string (a gateway's rules for /auth/check)."""

    authorization: str | None = None
    cookie: str | None = None
    query: str = ""

    @classmethod
    def of(cls, request: Request) -> "Asked":
        return cls(
            authorization=request.headers.get("authorization"),
            cookie=request.headers.get("cookie"),
            query=request.scope["query_string"].decode("latin-1"),
        )


def _sized(status: int) -> bool:
    """Whether a Starlette Response of this status carries a Content-Length."""
    return status >= 200 and status not in (204, 304)


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole response: status, headers and body. The headers have no Content-Length, which
    goes first, as a Response puts it; unless `sized`: then they are a Response's own, in its
    order, Content-Length included."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""
    sized: bool = False

    @classmethod
    def of(cls, response: Response) -> "Answer":
        return cls(response.status_code, list(response.raw_headers), bytes(response.body), True)

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """Every header, as the ordinary route's Response sends them (before the middleware)."""
        if self.sized or not _sized(self.status):
            return self.headers
        return [(b"content-length", b"%d" % len(self.body)), *self.headers]

    def response(self) -> Response:
        """The answer as a response, for the ordinary route."""
        response = Response(self.body, status_code=self.status)
        response.raw_headers = list(self.raw_headers())
        return response


FrontDoorAnswer = Callable[[Services, Asked], Awaitable[Answer]]


class SignetApp(FastAPI):
    """A FastAPI app whose `front_door` (path → answer) GETs skip routing and middleware."""

    def __init__(
        self, *, metrics: Metrics, access_log: AccessLog, cors: CorsPolicy, **options: Any
    ) -> None:
        super().__init__(**options)
        self.front_door: dict[str, FrontDoorAnswer] = {}
        self._metrics = metrics
        self._access_log = access_log
        self._cors = cors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            answer = self.front_door.get(scope["path"])
            if answer is not None:
                # The first of each, as the ordinary route and the middleware read them.
                authorization = cookie = incoming_id = None
                origin: bytes | None = None
                for name, value in scope["headers"]:
                    if name == b"cookie":
                        if cookie is None:
                            cookie = value.decode("latin-1")
                    elif name == b"origin":
                        if origin is None:
                            origin = value
                    elif name == b"authorization":
                        if authorization is None:
                            authorization = value.decode("latin-1")
                    elif name == b"x-request-id" and incoming_id is None:
                        incoming_id = value.decode("latin-1")
                query = scope["query_string"].decode("latin-1")
                asked = Asked(authorization=authorization, cookie=cookie, query=query)
                cors = self._cors.simple_headers(origin)
                await self._answer(scope, send, answer, asked, incoming_id, cors)
                return
        await super().__call__(scope, receive, send)

    async def _answer(
        self,
        scope: Scope,
        send: Send,
        answer_for: FrontDoorAnswer,
        asked: Asked,
        incoming_id: str | None,
        cors: list[tuple[bytes, bytes]],
    ) -> None:
        started = time.perf_counter()
        current = request_id_for(incoming_id)
        reset = request_id.set(current)
        path = scope["path"]
        try:
            try:
                answer = await answer_for(services_of(self), asked)
            except DATABASE_UNAVAILABLE as error:
                answer = Answer.of(database_unavailable_response(error))
            except Exception as error:
                if is_missing_table(error):  # a database never migrated
                    answer = Answer.of(database_unavailable_response(error))
                else:
                    logger.exception("unexpected error answering GET %s", path)
                    # As the access log's middleware answers it, outside CORS: without its headers.
                    answer, cors = Answer.of(internal_error_response(current)), []
            # In the order the ordinary route's Response and the middlewares put them.
            headers = [*answer.raw_headers(), *cors, (b"x-request-id", current.encode())]
            await send({"type": "http.response.start", "status": answer.status, "headers": headers})
            await send({"type": "http.response.body", "body": answer.body})
            # Labelled as routing would have labelled it.
            self._metrics.request(route=path, method="GET", status=answer.status)
            self._access_log.answered(
                request_id=current, method="GET", path=path, status=answer.status, started=started
            )
        finally:
            request_id.reset(reset)
