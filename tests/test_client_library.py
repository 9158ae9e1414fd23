"""/auth/client.js and /auth/client.d.ts: served in production too, revalidated by ETag; CORS
lets allowed origins rename a passkey (PATCH) and no one else."""

import hashlib
import re

import httpx
import pytest

from api.web.routes.client import CLIENT_FILES

SPA_ORIGIN = "https://spa.example"
FILES = [
    ("/auth/client.js", "client.js", "text/javascript; charset=utf-8"),
    ("/auth/client.d.ts", "client.d.ts", "application/typescript; charset=utf-8"),
]


@pytest.mark.parametrize(("path", "name", "media_type"), FILES)
async def test_production_serves_the_files_as_they_are_with_an_etag(
    client: httpx.AsyncClient, path: str, name: str, media_type: str
) -> None:
    response = await client.get(path)

    assert response.status_code == 200
    assert response.content == (CLIENT_FILES / name).read_bytes()
    assert response.headers["content-type"] == media_type
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-cache"
    etag = response.headers["etag"]
    assert etag == f'"{hashlib.sha256(response.content).hexdigest()[:32]}"'  # strong


async def test_the_two_files_have_different_etags(client: httpx.AsyncClient) -> None:
    script = await client.get("/auth/client.js")
    declarations = await client.get("/auth/client.d.ts")

    assert script.headers["etag"] != declarations.headers["etag"]


@pytest.mark.parametrize("path", ["/auth/client.js", "/auth/client.d.ts"])
@pytest.mark.parametrize(
    "if_none_match",
    ["{etag}", "W/{etag}", '"other", {etag}', '"other",W/{etag}', "*"],
)
async def test_a_matching_if_none_match_is_a_304_without_a_body(
    client: httpx.AsyncClient, path: str, if_none_match: str
) -> None:
    etag = (await client.get(path)).headers["etag"]

    response = await client.get(path, headers={"if-none-match": if_none_match.format(etag=etag)})

    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    "if_none_match", ['"other"', "W/\"other\", 'x'", "", ",", '"other", ' * 2000]
)
async def test_another_etag_gets_the_file(client: httpx.AsyncClient, if_none_match: str) -> None:
    response = await client.get("/auth/client.js", headers={"if-none-match": if_none_match})

    assert response.status_code == 200
    assert b"export function createSignet" in response.content


async def test_the_script_is_an_es_module_that_sends_credentials(
    client: httpx.AsyncClient,
) -> None:
    script = (await client.get("/auth/client.js")).text

    assert "export function createSignet" in script
    assert "export class SignetError" in script
    assert 'credentials: bearer ? "omit" : "include"' in script
    assert not re.search(r"^\s*import\b", script, re.MULTILINE)  # it imports nothing


async def test_the_openapi_document_describes_both_files(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert "text/javascript" in paths["/auth/client.js"]["get"]["responses"]["200"]["content"]
    assert "304" in paths["/auth/client.d.ts"]["get"]["responses"]


@pytest.mark.settings(allowed_origins=SPA_ORIGIN)
async def test_an_allowed_origin_may_rename_a_passkey_across_origins(
    client: httpx.AsyncClient,
) -> None:
    preflight = await client.options(
        "/auth/passkeys/some-id",
        headers={
            "origin": SPA_ORIGIN,
            "access-control-request-method": "PATCH",
            "access-control-request-headers": "content-type",
        },
    )

    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == SPA_ORIGIN
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert "PATCH" in preflight.headers["access-control-allow-methods"]


@pytest.mark.settings(allowed_origins=SPA_ORIGIN)
async def test_another_origin_may_not(client: httpx.AsyncClient) -> None:
    preflight = await client.options(
        "/auth/passkeys/some-id",
        headers={
            "origin": "https://evil.example",
            "access-control-request-method": "PATCH",
            "access-control-request-headers": "content-type",
        },
    )

    assert preflight.status_code == 400
    assert preflight.headers["content-type"] == "application/problem+json"
    assert "access-control-allow-origin" not in preflight.headers


@pytest.mark.settings(allowed_origins=SPA_ORIGIN)
async def test_an_allowed_origin_may_import_the_module(client: httpx.AsyncClient) -> None:
    # Browsers fetch a cross-origin module script in CORS mode.
    response = await client.get("/auth/client.js", headers={"origin": SPA_ORIGIN})

    assert response.headers["access-control-allow-origin"] == SPA_ORIGIN
