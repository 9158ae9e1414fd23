"""OpenID Connect ID tokens, verified locally against the provider's published keys.

Follows OpenID Connect Core 1.0, section 3.1.3.7: an allow-listed asymmetric signature, the exact
issuer, our client id in the audience and no one else's, an unexpired token with an issue time,
and a verified email address.
"""

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
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
from api.auth.providers.groups_claim import claimed_groups
from api.auth.providers.jwks import ALLOWED_ALGORITHMS, ProviderKeys
from api.clock import Clock

GOOGLE_ISSUER = "https://accounts.google.com"
JWT_TYPES = frozenset({"jwt", "application/jwt"})
_TENANT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Google has signed ID tokens with either spelling of its issuer.
ISSUER_ALIASES = {GOOGLE_ISSUER: frozenset({GOOGLE_ISSUER, "accounts.google.com"})}


class OIDCProvider:
    """Verifies an ID token from one OpenID Connect provider for our client ids."""

    def __init__(
        self,
        *,
        name: str,
        client: httpx.AsyncClient,
        keys: ProviderKeys,
        issuer: str,
        client_ids: Iterable[str],
        leeway: int,
        clock: Clock,
        client_id: str | None = None,
        client_secret: SecretStr | None = None,
        scopes: tuple[str, ...] = ("openid", "email", "profile"),
        trust_email: bool = False,
        timeout: float = 5.0,
        issuer_template: str | None = None,
        groups_claim: str | None = None,
    ) -> None:
        # Multi-tenant: each token's issuer is this with its own tenant (`tid`) in it.
        self._issuer_template = issuer_template
        self.name = name
        # The redirect flow's client; None: this provider only takes posted ID tokens.
        self.client_id = client_id
        self._client_secret = client_secret
        self._scopes = scopes
        self._trust_email = trust_email
        # The claim listing the user's groups (a trusted provider's only); None: not read.
        self._groups_claim = groups_claim
        self._timeout = timeout
        self._client = client
        self._keys = keys
        self._issuers = ISSUER_ALIASES.get(issuer, frozenset({issuer}))
        self._client_ids = frozenset(client_ids)
        self._leeway = leeway
        self._clock = clock

    async def verify(self, assertion: str) -> Identity:
        with failures_logged(proof="ID token", source="identity provider"):
            claims = await self._verify(assertion)
            return self._identity(claims, email_source=claims, id_token=assertion)

    async def discover(self) -> None:
        """Fetch the discovery document now (it is kept)."""
        await self._keys.discovery.document(self._client)

    async def authorization_url(self, flow: Flow, *, redirect_uri: str) -> str:
        """Where to send the browser to start `flow`."""
        assert self.client_id is not None  # only redirect-flow providers are started
        with failures_logged(proof="authorization", source="identity provider"):
            endpoint = await self._keys.discovery.endpoint(self._client, "authorization_endpoint")
        return code_flow.authorization_url(
            endpoint,
            client_id=self.client_id,
            redirect_uri=redirect_uri,
            scopes=self._scopes,
            state=flow.state,
            nonce=flow.nonce,
            challenge=flow.challenge,
        )

    async def complete(self, flow: Flow, *, code: str, redirect_uri: str) -> Identity:
        """The identity the authorization `code` of `flow` proves: the code exchanged with the
        PKCE verifier, the ID token verified with the flow's nonce, and the email from the ID
        token or, after every check, from userinfo (whose `sub` must match)."""
        assert self.client_id is not None
        with failures_logged(proof="authorization code", source="identity provider"):
            document = await self._keys.discovery.document(self._client)
            tokens = await code_flow.exchange_code(
                self._client,
                await self._keys.discovery.endpoint(self._client, "token_endpoint"),
                code=code,
                verifier=flow.verifier,
                redirect_uri=redirect_uri,
                client_id=self.client_id,
                client_secret=self._client_secret,
                auth_methods=document.get("token_endpoint_auth_methods_supported"),
                http_timeout=self._timeout,
            )
            id_token = tokens.get("id_token")
            if not isinstance(id_token, str):
                raise AssertionRejected("token response without an id_token")
            claims = await self._verify(id_token, nonce=flow.nonce)
            email_source: Mapping[str, Any] = claims
            if "email" not in claims:
                email_source = await self._userinfo(tokens.get("access_token"), claims["sub"])
            return self._identity(claims, email_source=email_source, id_token=None)

    async def _userinfo(self, access_token: object, subject: object) -> dict[str, Any]:
        if not isinstance(access_token, str):
            raise AssertionRejected("token response without an access_token")
        endpoint = await self._keys.discovery.endpoint(self._client, "userinfo_endpoint")
        info = await code_flow.userinfo(
            self._client, endpoint, access_token=access_token, http_timeout=self._timeout
        )
        if info.get("sub") != subject:
            raise AssertionRejected("userinfo is about another subject")
        return info

    def _identity(
        self, claims: Mapping[str, Any], *, email_source: Mapping[str, Any], id_token: str | None
    ) -> Identity:
        # Present, it must be JSON true. Whether the email then counts as verified is the
        # provider's trust, never the claim's: whoever runs an untrusted provider can write
        # email_verified: true for any address (Keycloak's per-provider "Trust Email").
        if "email_verified" in email_source and email_source["email_verified"] is not True:
            raise EmailNotVerified("email not verified")
        return Identity(
            email=email_claim(email_source.get("email")),
            issuer=claims["iss"],
            subject=claims["sub"],
            email_verified=self._trust_email,
            groups=self._groups(claims, email_source),
            # A posted ID token is accepted once; one from the code flow was ours alone anyway.
            one_time_proof=hashlib.sha256(id_token.encode()).hexdigest() if id_token else None,
            proof_expires_at=datetime.fromtimestamp(_number(claims, "exp") + self._leeway, UTC),
        )

    def _groups(
        self, claims: Mapping[str, Any], email_source: Mapping[str, Any]
    ) -> tuple[str, ...] | None:
        """The groups claim's names: the ID token's, else userinfo's when it was fetched (it is
        then the email's source); None without a groups claim configured."""
        if self._groups_claim is None:
            return None
        sources = [claims] if email_source is claims else [claims, email_source]
        return claimed_groups(sources, self._groups_claim, provider=self.name)

    async def _verify(self, token: str, *, nonce: str | None = None) -> dict[str, Any]:
        """The claims of an ID token that passes every check but the email's."""
        try:
            header = jwt.get_unverified_header(token)
        except (jwt.PyJWTError, RecursionError):  # RecursionError: absurdly nested JSON
            raise AssertionRejected("not a JWT") from None
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise AssertionRejected(f"algorithm {algorithm!r:.20} is not allowed")
        typ = header.get("typ")
        if typ is not None and (not isinstance(typ, str) or typ.lower() not in JWT_TYPES):
            # An access token (at+jwt) or any other JWT is not an ID token.
            raise AssertionRejected(f"typ {typ!r:.20} is not an ID token's")
        kid = header.get("kid")
        now = self._clock()
        key = await self._keys.key_for(
            kid if isinstance(kid, str) else None, client=self._client, now=now
        )
        key.check_fits(algorithm)
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[algorithm],
                # The signature is checked here; claims below, against the injected clock.
                options={
                    "verify_aud": False,
                    "verify_iss": False,
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except (jwt.PyJWTError, RecursionError) as error:
            raise AssertionRejected(f"signature: {type(error).__name__}") from None
        self._check_claims(claims, now.timestamp())
        if nonce is not None and not (
            isinstance(claims.get("nonce"), str) and hmac.compare_digest(claims["nonce"], nonce)
        ):
            raise AssertionRejected("nonce is not the flow's")
        if not isinstance(claims.get("sub"), str):
            raise AssertionRejected("no subject")
        return claims

    def _accepted_issuers(self, claims: Mapping[str, Any]) -> frozenset[str]:
        if self._issuer_template is None:
            return self._issuers
        tenant = claims.get("tid")
        if not isinstance(tenant, str) or not _TENANT_ID.fullmatch(tenant):
            raise AssertionRejected("no tenant id (tid)")
        return frozenset({self._issuer_template.replace("{tenantid}", tenant)})

    def _check_claims(self, claims: dict[str, Any], now: float) -> None:
        if claims.get("iss") not in self._accepted_issuers(claims):
            raise AssertionRejected(f"issuer {claims.get('iss')!r:.80}")
        audiences = claims.get("aud")
        audiences = [audiences] if isinstance(audiences, str) else audiences
        if (
            not isinstance(audiences, list)
            or not audiences
            or not set(audiences) <= self._client_ids
        ):
            raise AssertionRejected("audience is not only our client ids")
        azp = claims.get("azp")
        if (len(audiences) > 1 or azp is not None) and azp not in self._client_ids:
            raise AssertionRejected("authorized party is not our client id")
        expires, issued = _number(claims, "exp"), _number(claims, "iat")
        if now > expires + self._leeway:
            raise AssertionRejected("expired")
        if issued > now + self._leeway:
            raise AssertionRejected("issued in the future")
        if "nbf" in claims and _number(claims, "nbf") > now + self._leeway:
            raise AssertionRejected("not yet valid")


def _number(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AssertionRejected(f"{name} missing or not a number")
    return float(value)
