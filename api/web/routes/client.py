"""/auth/client.js, the browser client, and /auth/client.d.ts, its TypeScript declarations: read
once at import, each with a strong ETag, revalidated on every use (304 when unchanged)."""

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response

CLIENT_FILES = Path(__file__).resolve().parent.parent / "client"
# no-cache: kept, but asked about before each use, so a new release is picked up at once and an
# unchanged file costs a 304. Not immutable: the URL has no version in it.
CACHE_CONTROL = "no-cache"

router = APIRouter(prefix="/auth", tags=["client"])


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    media_type: str
    etag: str

    @classmethod
    def read(cls, name: str, media_type: str) -> "StaticFile":
        body = (CLIENT_FILES / name).read_bytes()
        digest = hashlib.sha256(body).hexdigest()[:32]
        return cls(body=body, media_type=media_type, etag=f'"{digest}"')

    def answer(self, if_none_match: str | None) -> Response:
        headers = {
            "ETag": self.etag,
            "Cache-Control": CACHE_CONTROL,
            "X-Content-Type-Options": "nosniff",
        }
        if if_none_match is not None and matches(if_none_match, self.etag):
            return Response(status_code=304, headers=headers)
        return Response(self.body, media_type=self.media_type, headers=headers)


def matches(if_none_match: str, etag: str) -> bool:
    """Whether If-None-Match names `etag`: "*", or a list of tags compared weakly (RFC 9110
    13.1.2: a W/ prefix does not count)."""
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return any(tag == "*" or tag.removeprefix("W/") == etag for tag in tags)


SCRIPT = StaticFile.read("client.js", "text/javascript; charset=utf-8")
# TypeScript has no registered media type; this is the one Deno and the module CDNs use and
# read as TypeScript (text/plain would be shown, but not taken for declarations).
DECLARATIONS = StaticFile.read("client.d.ts", "application/typescript; charset=utf-8")
# No length limit of its own: the guard on request heads (http_protocol.py) bounds every header.
IfNoneMatch = Annotated[str | None, Header()]


def _documented(media_type: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"content": {media_type: {"schema": {"type": "string"}}}},
        304: {"description": "Unchanged since the copy whose ETag was sent in If-None-Match."},
    }


@router.get(
    "/client.js",
    summary="The browser client",
    response_class=Response,
    responses=_documented("text/javascript"),
)
async def client_script(if_none_match: IfNoneMatch = None) -> Response:
    """A dependency-free ES module: createSignet({ baseUrl }) and SignetError."""
    return SCRIPT.answer(if_none_match)


@router.get(
    "/client.d.ts",
    summary="The browser client's TypeScript declarations",
    response_class=Response,
    responses=_documented("application/typescript"),
)
async def client_declarations(if_none_match: IfNoneMatch = None) -> Response:
    """TypeScript declarations for /auth/client.js."""
    return DECLARATIONS.answer(if_none_match)
