"""One delivery attempt: the event's JSON POSTed with the Standard Webhooks headers, and what
the receiver's answer means (delivered, try again, or gone)."""

import asyncio
from dataclasses import dataclass
from datetime import datetime

import httpx

from api.webhooks.backoff import retry_after_seconds
from api.webhooks.config import WebhookConfig
from api.webhooks.signing import signatures

USER_AGENT = "Signet-Webhooks/1"
# A 2xx within this many seconds is a delivery; anything slower is a failed try.
TIMEOUT = 10.0
# Of a receiver's answer, read no more than this (its body means nothing to Signet).
MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Attempt:
    """An attempt's outcome: `error` is None when delivered."""

    error: str | None = None
    # The receiver said 410 Gone: the webhook is disabled until its settings change.
    gone: bool = False
    retry_after: float | None = None


def headers_for(
    config: WebhookConfig, *, event_id: int, at: datetime, body: bytes
) -> dict[str, str]:
    """The Standard Webhooks headers of an attempt made `at`."""
    timestamp = int(at.timestamp())
    message_id = str(event_id)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures(
            config.keys, message_id=message_id, timestamp=timestamp, body=body
        ),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


async def attempt(
    client: httpx.AsyncClient,
    config: WebhookConfig,
    *,
    event_id: int,
    body: bytes,
    at: datetime,
) -> Attempt:
    """POST `body` to the webhook once; redirects are never followed (they count as failures)."""
    headers = headers_for(config, event_id=event_id, at=at, body=body)
    try:
        async with asyncio.timeout(TIMEOUT):
            request = client.build_request(
                "POST", config.url, content=body, headers=headers, timeout=TIMEOUT
            )
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                read = 0
                async for chunk in response.aiter_raw():
                    read += len(chunk)
                    if read > MAX_ANSWER_BYTES:
                        break
            finally:
                await response.aclose()
    except TimeoutError:
        return Attempt(error=f"no answer within {TIMEOUT:g} s")
    except httpx.HTTPError as error:
        return Attempt(error=f"{type(error).__name__}: {error}".rstrip(": "))
    status = response.status_code
    if 200 <= status < 300:
        return Attempt()
    if status == 410:
        return Attempt(error="410 Gone: disabled until its settings change", gone=True)
    retry_after = retry_after_seconds(response.headers.get("retry-after"), now=at)
    if 300 <= status < 400:
        return Attempt(error=f"{status}: a redirect (never followed)")
    return Attempt(error=f"{status} {response.reason_phrase}".strip(), retry_after=retry_after)
