"""SignetApp: FastAPI, with a front door for the questions asked on almost every request: may
this request pass (`/auth/check`, for gateways) and who is signed in (`/auth/me`, for SPAs).

Their answers skip FastAPI's routing, dependency resolution and middleware and go out as raw
ASGI messages, with a request id, logged and counted like every other answer. A request with an
Origin header goes the long way instead, through the CORS middleware to an ordinary route that
gives the same answer.
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
from api.web.problems import (
    DATABASE_UNAVAILABLE,
    database_unavailable_response,
    internal_error_response,
)

logger = logging.getLogger("signet")


@dataclass(frozen=True, slots=True)
class Asked:
    """What a front-door answer reads of a request: the headers that carry a session."""

    authorization: str | None = None
    cookie: str | None = None

    @classmethod
    def of(cls, request: Request) -> "Asked":
        return cls(
            authorization=request.headers.get("authorization"), cookie=request.headers.get("cookie")
        )


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole response: status, headers (no Content-Length) and body."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""

    @classmethod
    def of(cls, response: Response) -> "Answer":
        headers = [header for header in response.raw_headers if header[0] != b"content-length"]
        return cls(response.status_code, headers, bytes(response.body))

    def response(self) -> Response:
        """The answer as a response, for the ordinary route."""
        response = Response(self.body, status_code=self.status)
        response.raw_headers.extend(self.headers)
        return response


FrontDoorAnswer = Callable[[Services, Asked], Awaitable[Answer]]


class SignetApp(FastAPI):
    """A FastAPI app whose `front_door` (path → answer) GETs skip routing and middleware."""

    def __init__(self, *, metrics: Metrics, access_log: AccessLog, **options: Any) -> None:
        super().__init__(**options)
        self.front_door: dict[str, FrontDoorAnswer] = {}
        self._metrics = metrics
        self._access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            answer = self.front_door.get(scope["path"])
            if answer is not None:
                authorization = cookie = incoming_id = None
                for name, value in scope["headers"]:
                    if name == b"origin":
                        break
                    if name == b"cookie" and cookie is None:
                        cookie = value.decode("latin-1")
                    elif name == b"authorization" and authorization is None:
                        authorization = value.decode("latin-1")
                    elif name == b"x-request-id" and incoming_id is None:
                        incoming_id = value.decode("latin-1")
                else:
                    asked = Asked(authorization=authorization, cookie=cookie)
                    await self._answer(scope, send, answer, asked, incoming_id)
                    return
        await super().__call__(scope, receive, send)

    async def _answer(
        self,
        scope: Scope,
        send: Send,
        answer_for: FrontDoorAnswer,
        asked: Asked,
        incoming_id: str | None,
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
                    answer = Answer.of(internal_error_response(current))
            headers = [*answer.headers, (b"x-request-id", current.encode())]
            if answer.body:
                headers.append((b"content-length", str(len(answer.body)).encode()))
            await send({"type": "http.response.start", "status": answer.status, "headers": headers})
            await send({"type": "http.response.body", "body": answer.body})
            # Labelled as routing would have labelled it.
            self._metrics.request(route=path, method="GET", status=answer.status)
            self._access_log.answered(
                request_id=current, method="GET", path=path, status=answer.status, started=started
            )
        finally:
            request_id.reset(reset)
