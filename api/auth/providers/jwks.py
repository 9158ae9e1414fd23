"""The provider's published signing keys (JWKS): fetched, cached and matched to tokens."""

import asyncio
import logging
import math
import re
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from jwt import PyJWK
from jwt.algorithms import OKPAlgorithm

from api.auth.providers.base import AssertionRejected, VerifierUnavailable
from api.auth.providers.http import request
from api.urls import is_https_or_loopback

logger = logging.getLogger("signet.verifier")

# Asymmetric only: "none" and HMAC ("HS256" with the public key as secret) are never accepted.
ALGORITHMS_BY_KEY_TYPE = {
    "RSA": frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}),
    "EC": frozenset({"ES256", "ES384", "ES512"}),
    # "Ed25519" is RFC 9864's fully specified name for EdDSA over Ed25519.
    "OKP": frozenset({"EdDSA", "Ed25519"}),
}
ALLOWED_ALGORITHMS = frozenset().union(*ALGORITHMS_BY_KEY_TYPE.values())
CURVE_OF_ALGORITHM = {
    "ES256": "P-256",
    "ES384": "P-384",
    "ES512": "P-521",
    "Ed25519": "Ed25519",
}
# PyJWT knows EdDSA; RFC 9864's fully specified "Ed25519" is that algorithm over Ed25519 keys
# (check_fits holds it to them). Registered with PyJWT once, for this process.
with suppress(ValueError):  # already registered
    jwt.register_algorithm("Ed25519", OKPAlgorithm())
MAX_DOCUMENT_BYTES = 256 * 1024
# How long fetched keys are trusted without asking again, when the provider does not say.
DEFAULT_KEYS_MAX_AGE = timedelta(hours=1)
MIN_KEYS_MAX_AGE = timedelta(minutes=1)
MAX_KEYS_MAX_AGE = timedelta(days=1)
# At most one key fetch per this interval, whatever tokens arrive: unknown key ids are free to
# forge, and a flood of them must not become a flood of requests to the provider.
MIN_FETCH_INTERVAL = timedelta(seconds=10)
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One of the provider's public keys, with what decides which algorithms it may verify."""

    key: Any
    key_type: str
    curve: str | None
    algorithm: str | None

    def check_fits(self, algorithm: str) -> None:
        if algorithm not in ALGORITHMS_BY_KEY_TYPE.get(self.key_type, frozenset()):
            raise AssertionRejected(f"{algorithm} does not fit a {self.key_type} key")
        curve = CURVE_OF_ALGORITHM.get(algorithm)
        if curve is not None and self.curve != curve:
            raise AssertionRejected(f"{algorithm} does not fit a {self.curve} key")
        if self.algorithm is not None and self.algorithm != algorithm:
            raise AssertionRejected("algorithm differs from the key's")


class ProviderKeys:
    """The provider's signing keys, cached for the whole process and fetched one at a time."""

    def __init__(
        self,
        *,
        issuer: str,
        jwks_url: str | None,
        timeout: float,
        published_issuer: str | None = None,
    ) -> None:
        self.discovery = Discovery(
            issuer=issuer, timeout=timeout, published_issuer=published_issuer
        )
        self._jwks_url = jwks_url
        self._timeout = timeout
        self._keys: dict[str | None, SigningKey] = {}
        self._fresh_until: datetime | None = None
        self._last_attempt: datetime | None = None
        self._fetching: asyncio.Task[None] | None = None

    async def key_for(
        self, kid: str | None, *, client: httpx.AsyncClient, now: datetime
    ) -> SigningKey:
        """The key with this id (without one: the only key); fetches when the cache is stale or
        the id is new to it."""
        stale = self._fresh_until is None or now >= self._fresh_until
        fetched = False
        if (stale or self._match(kid) is None) and self._may_fetch(now):
            try:
                await self._fetch_once(client, now)
                fetched = True
            except VerifierUnavailable:
                if not self._keys:
                    raise
                logger.warning("provider keys unavailable; using the keys fetched before")
        key = self._match(kid)
        if key is not None:
            return key
        if not self._keys:
            raise VerifierUnavailable("no provider keys yet")
        if not fetched:
            # A key id we could not look up yet may be a real rotation: never call it a bad token.
            assert self._last_attempt is not None
            wait = MIN_FETCH_INTERVAL - (now - self._last_attempt)
            raise VerifierUnavailable(
                f"unknown key id {kid!r:.80}; keys not refetched yet",
                retry_after=max(1, math.ceil(wait.total_seconds())),
            )
        raise AssertionRejected(f"unknown key id {kid!r:.80}")

    def _match(self, kid: str | None) -> SigningKey | None:
        if kid in self._keys:
            return self._keys[kid]
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return None

    def _may_fetch(self, now: datetime) -> bool:
        return (
            self._fetching is not None
            or self._last_attempt is None
            or now - self._last_attempt >= MIN_FETCH_INTERVAL
        )

    async def _fetch_once(self, client: httpx.AsyncClient, now: datetime) -> None:
        # Concurrent callers share one fetch; shielded so one caller's cancellation spares it.
        if self._fetching is None:
            self._last_attempt = now
            self._fetching = asyncio.ensure_future(self._fetch(client, now))
            self._fetching.add_done_callback(self._fetched)
        await asyncio.shield(self._fetching)

    def _fetched(self, task: asyncio.Task[None]) -> None:
        self._fetching = None
        if not task.cancelled():
            task.exception()  # retrieved here, so an unawaited failure is not reported twice

    async def fetch_now(self, client: httpx.AsyncClient, now: datetime) -> int:
        """Fetch the keys now, whatever the cache says; how many are usable."""
        await self._fetch(client, now)
        return len(self._keys)

    async def _fetch(self, client: httpx.AsyncClient, now: datetime) -> None:
        jwks_url = self._jwks_url or await self._discover(client)
        answer = await request(
            client, "GET", jwks_url, http_timeout=self._timeout, max_bytes=MAX_DOCUMENT_BYTES
        )
        if answer.status_code != 200:
            raise VerifierUnavailable(f"keys: HTTP {answer.status_code}")
        keys = _signing_keys(answer.json_object().get("keys"))
        if not keys:
            raise VerifierUnavailable("keys: no usable signing key")
        self._keys = keys
        self._fresh_until = now + _max_age(answer.headers.get("cache-control", ""))

    async def _discover(self, client: httpx.AsyncClient) -> str:
        self._jwks_url = await self.discovery.endpoint(client, "jwks_uri")
        return self._jwks_url


class IssuerMismatch(VerifierUnavailable):
    """The discovery document names another issuer than the configured one."""


class Discovery:
    """The provider's discovery document (OpenID Connect Discovery 1.0, section 4), fetched once
    it is first needed and kept for the process."""

    def __init__(self, *, issuer: str, timeout: float, published_issuer: str | None = None) -> None:
        self._issuer = issuer
        # What the document must say: the issuer, or a multi-tenant provider's template.
        self._published_issuer = published_issuer or issuer
        self._timeout = timeout
        self._document: dict[str, Any] | None = None

    async def endpoint(self, client: httpx.AsyncClient, name: str) -> str:
        """The URL the document gives for `name` (jwks_uri, token_endpoint, …)."""
        value = (await self.document(client)).get(name)
        if not isinstance(value, str):
            raise VerifierUnavailable(f"discovery: no {name}")
        # An https issuer's document must not send us to plain http for keys or tokens.
        if urlsplit(self._issuer).scheme == "https" and not is_https_or_loopback(value):
            raise VerifierUnavailable(f"discovery: {name} is not https")
        return value

    async def document(self, client: httpx.AsyncClient) -> dict[str, Any]:
        if self._document is None:
            url = f"{self._issuer.rstrip('/')}/.well-known/openid-configuration"
            answer = await request(
                client, "GET", url, http_timeout=self._timeout, max_bytes=MAX_DOCUMENT_BYTES
            )
            if answer.status_code != 200:
                raise VerifierUnavailable(f"discovery: HTTP {answer.status_code}")
            document = answer.json_object()
            if document.get("issuer") != self._published_issuer:
                raise IssuerMismatch(
                    f"discovery: issuer {document.get('issuer')!r:.80} "
                    f"is not {self._published_issuer!r}"
                )
            self._document = document
        return self._document


def _signing_keys(entries: object) -> dict[str | None, SigningKey]:
    keys: dict[str | None, SigningKey] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig" or "d" in entry:
            continue
        if entry.get("kty") not in ALGORITHMS_BY_KEY_TYPE:
            continue
        try:
            jwk = PyJWK(entry, algorithm=_declared_or_any_algorithm(entry))
        except (jwt.PyJWKError, ValueError, TypeError):
            logger.warning("skipping an unusable provider key")
            continue
        declared = entry.get("alg")
        keys[entry.get("kid")] = SigningKey(
            key=jwk.key,
            key_type=entry["kty"],
            curve=entry.get("crv"),
            algorithm=declared if isinstance(declared, str) else None,
        )
    return keys


def _declared_or_any_algorithm(entry: dict[str, Any]) -> str:
    # PyJWK needs an algorithm to load a key; which one the token uses is checked per token.
    declared = entry.get("alg")
    if isinstance(declared, str):
        return "EdDSA" if declared == "Ed25519" else declared
    if entry["kty"] == "EC":
        curves = {curve: alg for alg, curve in CURVE_OF_ALGORITHM.items()}
        return curves.get(entry.get("crv", ""), "ES256")
    return {"RSA": "RS256", "OKP": "EdDSA"}[entry["kty"]]


def _max_age(cache_control: str) -> timedelta:
    match = _MAX_AGE.search(cache_control)
    if match is None:
        return DEFAULT_KEYS_MAX_AGE
    return max(MIN_KEYS_MAX_AGE, min(timedelta(seconds=int(match[1])), MAX_KEYS_MAX_AGE))
