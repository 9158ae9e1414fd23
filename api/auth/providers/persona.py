"""The Persona remote-verification protocol, spoken to a configurable verifier."""

import math
from typing import Any

import httpx

from api.auth.providers.base import (
    AssertionRejected,
    Identity,
    VerifierUnavailable,
    email_claim,
    failures_logged,
    loggable,
)
from api.auth.providers.http import request, retry_after_seconds
from api.clock import Clock

# A Persona answer is a few hundred bytes; anything near this is not one.
MAX_ANSWER_BYTES = 64 * 1024


class PersonaProvider:
    """POSTs the assertion and our audience; trusts only an unambiguous "okay"."""

    def __init__(
        self,
        *,
        name: str,
        client: httpx.AsyncClient,
        url: str,
        audience: str,
        timeout: float,
        clock: Clock,
        trust_email: bool = True,
    ) -> None:
        self.name = name
        self._trust_email = trust_email
        self._client = client
        self._url = url
        self._audience = audience
        self._timeout = timeout
        self._clock = clock

    async def verify(self, assertion: str) -> Identity:
        with failures_logged(proof="assertion", source="verifier"):
            return self._check(await self._ask(assertion))

    async def _ask(self, assertion: str) -> dict[str, Any]:
        answer = await request(
            self._client,
            "POST",
            self._url,
            data={"assertion": assertion, "audience": self._audience},
            http_timeout=self._timeout,
            max_bytes=MAX_ANSWER_BYTES,
        )
        if answer.status_code >= 500:
            raise VerifierUnavailable(
                f"HTTP {answer.status_code}",
                retry_after=retry_after_seconds(answer.headers, now=self._clock()),
            )
        if answer.status_code != 200:
            raise AssertionRejected(f"HTTP {answer.status_code}")
        return answer.json_object()

    def _check(self, answer: dict[str, Any]) -> Identity:
        if answer.get("status") != "okay":
            status, reason = loggable(answer.get("status")), loggable(answer.get("reason"))
            raise AssertionRejected(f"status {status}, reason {reason}")
        if answer.get("audience") != self._audience:
            raise AssertionRejected(f"audience {loggable(answer.get('audience'))}")
        expires = answer.get("expires")
        # Milliseconds since the epoch, required: NaN, Infinity or no expiry would mean forever.
        if (
            isinstance(expires, bool)
            or not isinstance(expires, int | float)
            or not math.isfinite(expires)
        ):
            raise AssertionRejected("expires is not a finite number")
        if expires <= self._clock().timestamp() * 1000:
            raise AssertionRejected("expired")
        issuer = answer.get("issuer")
        return Identity(
            email=email_claim(answer.get("email")),
            issuer=issuer if isinstance(issuer, str) else None,
            email_verified=self._trust_email,
        )
