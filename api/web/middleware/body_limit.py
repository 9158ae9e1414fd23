"""Request bodies over a size limit are refused before they are read, as a problem 413."""

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.web.problems import Problem, problem_response

_DETAIL = "The request body is larger than this service accepts."


class BodyLimitMiddleware:
    """Refuses a declared Content-Length over `max_bytes` at once, and a longer stream as read."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            problem = Problem(title="Content too large", status=413, detail=_DETAIL)
            await problem_response(problem)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                # Raised inside the route's body read, so the problem handlers answer it.
                raise HTTPException(413, _DETAIL)
            return message

        await self.app(scope, limited_receive, send)
