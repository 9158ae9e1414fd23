"""GitHub: OAuth 2.0 without ID tokens. The code is exchanged (with PKCE), then the user's id
and their primary verified email are read from the API."""

from typing import Any

import httpx
from pydantic import SecretStr

from api.auth.flows import Flow
from api.auth.providers import code_flow
from api.auth.providers.base import (
    AssertionRejected,
    EmailNotVerified,
    Identity,
    email_claim,
    failures_logged,
)
from api.auth.providers.http import request

AUTHORIZE_URL = "https://github.com/login/oauth/authorize"
EXCHANGE_URL = "https://github.com/login/oauth/access_token"
API_URL = "https://api.github.com"
MAX_ANSWER_BYTES = 256 * 1024


class GitHubProvider:
    """Signs in through GitHub's web application flow; takes no posted assertions."""

    def __init__(
        self,
        *,
        name: str,
        client: httpx.AsyncClient,
        client_id: str,
        client_secret: SecretStr | None,
        scopes: tuple[str, ...],
        timeout: float,
        trust_email: bool = True,
    ) -> None:
        self.name = name
        self.client_id = client_id
        self._trust_email = trust_email
        self._client = client
        self._client_secret = client_secret
        self._scopes = scopes
        self._timeout = timeout

    async def verify(self, assertion: str) -> Identity:
        raise AssertionRejected("GitHub signs in through the redirect flow only")

    async def authorization_url(self, flow: Flow, *, redirect_uri: str) -> str:
        return code_flow.authorization_url(
            AUTHORIZE_URL,
            client_id=self.client_id,
            redirect_uri=redirect_uri,
            scopes=self._scopes,
            state=flow.state,
            nonce=None,
            challenge=flow.challenge,
        )

    async def complete(self, flow: Flow, *, code: str, redirect_uri: str) -> Identity:
        """The GitHub user the code is for, with their primary verified email."""
        with failures_logged(proof="authorization code", source="GitHub"):
            tokens = await code_flow.exchange_code(
                self._client,
                EXCHANGE_URL,
                code=code,
                verifier=flow.verifier,
                redirect_uri=redirect_uri,
                client_id=self.client_id,
                client_secret=self._client_secret,
                auth_methods=["client_secret_post"],
                http_timeout=self._timeout,
            )
            access_token = tokens.get("access_token")
            if not isinstance(access_token, str):
                # GitHub answers a bad code with HTTP 200 and {"error": …}.
                raise AssertionRejected(f"no access token: {str(tokens.get('error'))[:40]}")
            user = await self._api(access_token, "/user")
            emails = await self._api(access_token, "/user/emails")
            return Identity(
                email=email_claim(_primary_verified(emails)),
                issuer="github.com",
                subject=str(user.get("id")) if isinstance(user, dict) else None,
                email_verified=self._trust_email,
            )

    async def _api(self, access_token: str, path: str) -> Any:
        answer = await request(
            self._client,
            "GET",
            API_URL + path,
            headers={
                "Authorization": f"Bearer {access_token}",
                "Accept": "application/vnd.github+json",
            },
            http_timeout=self._timeout,
            max_bytes=MAX_ANSWER_BYTES,
        )
        answer.expect_ok("GitHub API")
        return answer.json_value()


def _primary_verified(emails: object) -> str:
    for entry in emails if isinstance(emails, list) else []:
        if isinstance(entry, dict) and entry.get("primary") is True:
            if entry.get("verified") is True and isinstance(entry.get("email"), str):
                return str(entry["email"])
            break
    raise EmailNotVerified("no primary verified email")
