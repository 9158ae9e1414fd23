"""The OAuth 2.0 authorization-code flow with PKCE (RFC 6749 section 4.1, RFC 7636), as an OpenID
Connect relying party speaks it: the authorization URL, the code exchange, and userinfo."""

import base64
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from pydantic import SecretStr

from api.auth.providers.http import request

MAX_ANSWER_BYTES = 256 * 1024


def authorization_url(
    endpoint: str,
    *,
    client_id: str,
    redirect_uri: str,
    scopes: tuple[str, ...],
    state: str,
    nonce: str | None,
    challenge: str,
) -> str:
    parameters = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if nonce is not None:  # OpenID Connect only
        parameters["nonce"] = nonce
    query = urlencode(parameters)
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


async def exchange_code(
    client: httpx.AsyncClient,
    endpoint: str,
    *,
    code: str,
    verifier: str,
    redirect_uri: str,
    client_id: str,
    client_secret: SecretStr | None,
    auth_methods: object,
    http_timeout: float,
) -> dict[str, Any]:
    """The token response for `code`: HTTP 200 and a JSON object, or a `VerificationError`."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    headers = {"Accept": "application/json"}
    methods = auth_methods if isinstance(auth_methods, list) else ["client_secret_basic"]
    if client_secret is None:
        form["client_id"] = client_id  # a public client: PKCE is its proof
    elif "client_secret_basic" not in methods and "client_secret_post" in methods:
        form |= {"client_id": client_id, "client_secret": client_secret.get_secret_value()}
    else:  # RFC 6749 section 2.3.1: the form-encoded id and secret, in Basic
        pair = f"{quote(client_id, safe='')}:{quote(client_secret.get_secret_value(), safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    answer = await request(
        client,
        "POST",
        endpoint,
        data=form,
        headers=headers,
        http_timeout=http_timeout,
        max_bytes=MAX_ANSWER_BYTES,
    )
    answer.expect_ok("token endpoint")
    return answer.json_object()


async def userinfo(
    client: httpx.AsyncClient, endpoint: str, *, access_token: str, http_timeout: float
) -> dict[str, Any]:
    """The userinfo claims, asked with the access token in the Authorization header."""
    answer = await request(
        client,
        "GET",
        endpoint,
        headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
        http_timeout=http_timeout,
        max_bytes=MAX_ANSWER_BYTES,
    )
    answer.expect_ok("userinfo")
    return answer.json_object()
