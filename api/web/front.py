"""SignetApp: FastAPI, but for the gateway check, which is answered before FastAPI's own stack."""

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass(frozen=True, slots=True)
class HotRoute:
    """What a hot path puts in the scope as its route, as routing would (metrics label it)."""

    path: str


class SignetApp(FastAPI):
    """A FastAPI app whose `hot_paths` (path → ASGI app) skip routing and middleware."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.hot_paths: dict[str, ASGIApp] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            hot = self.hot_paths.get(scope["path"])
            if hot is not None:
                scope["app"] = self
                scope["route"] = HotRoute(scope["path"])
                await hot(scope, receive, send)
                return
        await super().__call__(scope, receive, send)
