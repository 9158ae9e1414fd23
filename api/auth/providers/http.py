"""HTTP for verifiers: bounded bodies, a single retry when the connection fails, Retry-After."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from api.auth.providers.base import (
    DEFAULT_RETRY_AFTER_SECONDS,
    AssertionRejected,
    VerifierUnavailable,
)

MAX_RETRY_AFTER_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class Answer:
    """A response whose body was read within the size limit."""

    status_code: int
    headers: httpx.Headers
    body: bytes

    def expect_ok(self, what: str) -> None:
        """Refuse anything but 200: a server error as unavailable, the rest as a rejection."""
        if self.status_code >= 500:
            raise VerifierUnavailable(f"{what}: HTTP {self.status_code}")
        if self.status_code != 200:
            raise AssertionRejected(f"{what}: HTTP {self.status_code}")

    def json_value(self) -> Any:
        """The body as JSON, or `VerifierUnavailable`."""
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):
            raise VerifierUnavailable("answer is not JSON") from None

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object, or `VerifierUnavailable`."""
        value = self.json_value()
        if not isinstance(value, dict):
            raise VerifierUnavailable("answer is not a JSON object")
        return value


async def request(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    http_timeout: float,
    max_bytes: int,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """Send once, and once more only if the connection could not be made.

    A connection that was never made cannot have done anything, so retrying it is safe; a timeout
    may mean the other side is busy, and retrying would double its load.
    """
    for attempt in (1, 2):
        try:
            return await _send(
                client,
                method,
                url,
                http_timeout=http_timeout,
                max_bytes=max_bytes,
                data=data,
                headers=headers,
            )
        except httpx.ConnectError:
            if attempt == 2:
                raise VerifierUnavailable("could not connect") from None
        except httpx.TimeoutException:
            raise VerifierUnavailable("timed out") from None
        except httpx.HTTPError as error:
            raise VerifierUnavailable(f"request failed: {type(error).__name__}") from None
    raise AssertionError("unreachable")


async def _send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    http_timeout: float,
    max_bytes: int,
    data: dict[str, str] | None,
    headers: dict[str, str] | None,
) -> Answer:
    async with client.stream(
        method, url, data=data, headers=headers, timeout=http_timeout
    ) as response:
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise VerifierUnavailable(f"answer larger than {max_bytes} bytes")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise VerifierUnavailable(f"answer larger than {max_bytes} bytes")
        return Answer(response.status_code, response.headers, bytes(body))


def retry_after_seconds(headers: httpx.Headers, *, now: datetime) -> int:
    """The server's Retry-After (seconds or HTTP date), bounded; our default without one."""
    value = headers.get("retry-after", "").strip()
    if value.isdigit():
        seconds = int(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return DEFAULT_RETRY_AFTER_SECONDS
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = int((when - now).total_seconds())
    return max(1, min(seconds, MAX_RETRY_AFTER_SECONDS))
