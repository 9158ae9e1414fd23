"""OpenID Connect ID tokens, verified locally against the provider's published keys.

Follows OpenID Connect Core 1.0, section 3.1.3.7: an allow-listed asymmetric signature, the exact
issuer, our client id in the audience and no one else's, an unexpired token with an issue time,
and a verified email address.
"""

from collections.abc import Iterable
from typing import Any

import httpx
import jwt

from api.auth.providers.base import AssertionRejected, Identity, email_claim, failures_logged
from api.auth.providers.jwks import ALLOWED_ALGORITHMS, ProviderKeys
from api.clock import Clock

GOOGLE_ISSUER = "https://accounts.google.com"
JWT_TYPES = frozenset({"jwt", "application/jwt"})
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
    ) -> None:
        self.name = name
        self._client = client
        self._keys = keys
        self._issuers = ISSUER_ALIASES.get(issuer, frozenset({issuer}))
        self._client_ids = frozenset(client_ids)
        self._leeway = leeway
        self._clock = clock

    async def verify(self, assertion: str) -> Identity:
        with failures_logged(proof="ID token", source="identity provider"):
            return await self._verify(assertion)

    async def _verify(self, token: str) -> Identity:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
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
        except jwt.PyJWTError as error:
            raise AssertionRejected(f"signature: {type(error).__name__}") from None
        self._check_claims(claims, now.timestamp())
        return Identity(email=email_claim(claims.get("email")), issuer=claims["iss"])

    def _check_claims(self, claims: dict[str, Any], now: float) -> None:
        if claims.get("iss") not in self._issuers:
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
        if claims.get("email_verified") not in (True, "true"):
            raise AssertionRejected("email not verified")


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AssertionRejected(f"{name} missing or not a number")
    return float(value)
