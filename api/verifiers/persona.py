"""The Persona remote-verification protocol, spoken to a configurable verifier."""

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from api.verifiers.base import (
    AssertionRejected,
    VerifiedIdentity,
    VerifierUnavailable,
    normalise_email,
)

logger = logging.getLogger("signet.verifier")

MAX_LOGGED_REASON = 200


class PersonaVerifier:
    """POSTs the assertion and our audience; trusts only an unambiguous "okay"."""

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        url: str,
        audience: str,
        timeout: float,
        clock: Callable[[], datetime],
    ) -> None:
        self._client = client
        self._url = url
        self._audience = audience
        self._timeout = timeout
        self._clock = clock

    async def verify(self, assertion: str) -> VerifiedIdentity:
        try:
            answer = await self._ask(assertion)
            return self._check(answer)
        except AssertionRejected as rejection:
            logger.warning("assertion rejected: %s", rejection.reason)
            raise
        except VerifierUnavailable as unavailable:
            logger.error("verifier unavailable: %s", unavailable.reason)
            raise

    async def _ask(self, assertion: str) -> dict[str, Any]:
        try:
            response = await self._client.post(
                self._url,
                data={"assertion": assertion, "audience": self._audience},
                timeout=self._timeout,
            )
        except httpx.TimeoutException:
            raise VerifierUnavailable("timed out") from None
        except httpx.HTTPError as error:
            raise VerifierUnavailable(f"request failed: {type(error).__name__}") from None
        if response.status_code >= 500:
            raise VerifierUnavailable(f"HTTP {response.status_code}")
        if response.status_code != 200:
            raise AssertionRejected(f"HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise VerifierUnavailable("answer is not JSON") from None
        if not isinstance(answer, dict):
            raise VerifierUnavailable("answer is not a JSON object")
        return answer

    def _check(self, answer: dict[str, Any]) -> VerifiedIdentity:
        if answer.get("status") != "okay":
            raise AssertionRejected(
                f"status {_loggable(answer.get('status'))}, "
                f"reason {_loggable(answer.get('reason'))}"
            )
        if answer.get("audience") != self._audience:
            raise AssertionRejected(f"audience {_loggable(answer.get('audience'))}")
        expires = answer.get("expires")
        if expires is not None:
            if isinstance(expires, bool) or not isinstance(expires, int | float):
                raise AssertionRejected("expires is not a number")
            if expires <= self._clock().timestamp() * 1000:
                raise AssertionRejected("expired")
        issuer = answer.get("issuer")
        return VerifiedIdentity(
            email=normalise_email(answer.get("email")),
            issuer=issuer if isinstance(issuer, str) else None,
        )


def _loggable(value: object) -> str:
    """The verifier's words, quoted and cut short so they cannot forge log lines."""
    return repr(value)[:MAX_LOGGED_REASON]
