"""The development identity provider's OpenID Connect side: discovery, an authorize page with an
email field, a token endpoint that checks PKCE, and its keys. Development only: it vouches for
whoever asks, so that the quickstart and the demo walk the production sign-in path."""

import base64
import hashlib
import hmac
from functools import cache
from html import escape
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from itsdangerous import BadData, URLSafeTimedSerializer
from jwt.algorithms import RSAAlgorithm

from api.config import Settings
from api.web.deps import ServicesDep, SettingsDep

CODE_SALT = "signet.dev-idp.code"
CODE_LIFETIME_SECONDS = 60
KEY_ID = "dev-1"

router = APIRouter(prefix="/dev-idp", include_in_schema=False)

AUTHORIZE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dev identity provider</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font: 16px/1.5 system-ui, sans-serif; max-width: 24rem; margin: 4rem auto">
<main><h1>Dev identity provider</h1>
<p>Development only: it vouches for any address you type.</p>
<form method="post" action="/dev-idp/authorize">
{hidden}
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="email" required autofocus>
<button type="submit">Sign in</button>
</form></main></body></html>
"""


@cache
def _signing_key() -> rsa.RSAPrivateKey:
    """This process's key (a restart signs with a new one; Signet refetches unknown kids)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _issuer(settings: Settings) -> str:
    return f"{settings.public_url}/dev-idp"


def _codes(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt=CODE_SALT)


@router.get("/.well-known/openid-configuration")
async def discovery(settings: SettingsDep) -> dict[str, Any]:
    issuer = _issuer(settings)
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/keys",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
    }


@router.get("/keys")
async def keys() -> dict[str, Any]:
    jwk = RSAAlgorithm.to_jwk(_signing_key().public_key(), as_dict=True)
    return {"keys": [{**jwk, "kid": KEY_ID, "use": "sig", "alg": "RS256"}]}


AuthorizeParam = Annotated[str, Query(max_length=2048)]


@router.get("/authorize", response_class=HTMLResponse)
async def authorize_page(
    client_id: AuthorizeParam,
    redirect_uri: AuthorizeParam,
    state: AuthorizeParam,
    nonce: AuthorizeParam,
    code_challenge: AuthorizeParam,
) -> HTMLResponse:
    """Ask for the email to vouch for."""
    fields = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "nonce": nonce,
        "code_challenge": code_challenge,
    }
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{escape(value)}">'
        for name, value in fields.items()
    )
    return HTMLResponse(AUTHORIZE_PAGE.format(hidden=hidden))


async def _form(request: Request, *names: str) -> list[str]:
    """These fields of a form-encoded body ("" for a missing one)."""
    fields = parse_qs((await request.body()).decode("utf-8", "replace"))
    return [fields.get(name, [""])[0][:2048] for name in names]


@router.post("/authorize", response_model=None)
async def approve(request: Request, settings: SettingsDep) -> RedirectResponse | HTMLResponse:
    """Back to the client with a code for `email`, but only to its own callback."""
    email, client_id, redirect_uri, state, nonce, code_challenge = await _form(
        request, "email", "client_id", "redirect_uri", "state", "nonce", "code_challenge"
    )
    if not redirect_uri.startswith(f"{settings.public_url}/auth/providers/"):
        return HTMLResponse("<p>That is not a Signet callback.</p>", status_code=400)
    code = _codes(settings).dumps(
        {
            "email": email,
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "nonce": nonce,
            "challenge": code_challenge,
        }
    )
    query = urlencode({"code": code, "state": state})
    return RedirectResponse(f"{redirect_uri}?{query}", status_code=303)


@router.post("/token")
async def token(request: Request, settings: SettingsDep, services: ServicesDep) -> JSONResponse:
    """An ID token for a code issued here, once its PKCE verifier matches."""
    code, redirect_uri, code_verifier, client_id = await _form(
        request, "code", "redirect_uri", "code_verifier", "client_id"
    )
    try:
        grant = _codes(settings).loads(code, max_age=CODE_LIFETIME_SECONDS)
    except BadData:
        return JSONResponse({"error": "invalid_grant"}, status_code=400)
    digest = hashlib.sha256(code_verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    if not (
        hmac.compare_digest(challenge, grant["challenge"])
        and grant["redirect_uri"] == redirect_uri
        and grant["client_id"] == client_id
    ):
        return JSONResponse({"error": "invalid_grant"}, status_code=400)
    now = int(services.clock().timestamp())
    claims = {
        "iss": _issuer(settings),
        "aud": client_id,
        "sub": grant["email"].lower(),
        "email": grant["email"],
        "email_verified": True,
        "nonce": grant["nonce"],
        "iat": now,
        "exp": now + 300,
    }
    id_token = jwt.encode(claims, _signing_key(), algorithm="RS256", headers={"kid": KEY_ID})
    return JSONResponse(
        {"id_token": id_token, "access_token": "dev", "token_type": "Bearer", "expires_in": 300},
        headers={"Cache-Control": "no-store"},
    )
