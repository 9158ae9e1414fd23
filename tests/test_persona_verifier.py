"""The Persona verifier against a verifier mocked with respx: what it sends, what it trusts."""

import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from api.auth.providers.base import AssertionRejected, Identity, VerifierUnavailable
from api.auth.providers.persona import PersonaProvider
from api.testing import FakeClock

URL = "https://verifier.example/verify"
AUDIENCE = "https://app.example"


@pytest.fixture
def verifier(clock: FakeClock, http_client: httpx.AsyncClient) -> PersonaProvider:
    return PersonaProvider(
        name="persona", client=http_client, url=URL, audience=AUDIENCE, timeout=2.0, clock=clock
    )


@pytest.fixture
def mock_verifier() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def okay(clock: FakeClock, **changes: object) -> dict[str, object]:
    answer: dict[str, object] = {
        "status": "okay",
        "email": "edith@example.com",
        "audience": AUDIENCE,
        "expires": int(clock().timestamp() * 1000) + 60_000,
        "issuer": "idp.example",
    }
    answer.update(changes)
    return {key: value for key, value in answer.items() if value is not None}


async def test_posts_the_assertion_and_our_audience_form_encoded(
    verifier: PersonaProvider, mock_verifier: respx.MockRouter, clock: FakeClock
) -> None:
    route = mock_verifier.post(URL).respond(json=okay(clock))

    identity = await verifier.verify("the-assertion")

    assert identity == Identity(email="edith@example.com", issuer="idp.example")
    request = route.calls.last.request
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode()) == {
        "assertion": ["the-assertion"],
        "audience": [AUDIENCE],
    }


async def test_an_untrusted_persona_verifiers_emails_are_unverified(
    mock_verifier: respx.MockRouter, clock: FakeClock, http_client: httpx.AsyncClient
) -> None:
    untrusted = PersonaProvider(
        name="persona",
        client=http_client,
        url=URL,
        audience=AUDIENCE,
        timeout=2.0,
        clock=clock,
        trust_email=False,
    )
    mock_verifier.post(URL).respond(json=okay(clock))

    assert (await untrusted.verify("the-assertion")).email_verified is False


async def test_email_is_normalised(
    verifier: PersonaProvider, mock_verifier: respx.MockRouter, clock: FakeClock
) -> None:
    mock_verifier.post(URL).respond(json=okay(clock, email=" Edith@Example.COM "))

    identity = await verifier.verify("a")

    assert identity.email == "edith@example.com"


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"status": "failure", "reason": "assertion has expired"}, id="status failure"),
        pytest.param({"status": "OKAY"}, id="status not exactly okay"),
        pytest.param({"status": None}, id="status missing"),
        pytest.param({"audience": "https://evil.example"}, id="audience mismatch"),
        pytest.param({"audience": None}, id="audience missing"),
        pytest.param({"email": None}, id="email missing"),
        pytest.param({"email": "not-an-address"}, id="email invalid"),
        pytest.param({"email": ["edith@example.com"]}, id="email not a string"),
        pytest.param({"email": ""}, id="email empty"),
        pytest.param({"expires": "tomorrow"}, id="expires not a number"),
        pytest.param({"expires": True}, id="expires a boolean"),
        pytest.param({"expires": None}, id="expires missing"),
        pytest.param({"expires": float("nan")}, id="expires NaN"),
        pytest.param({"expires": float("inf")}, id="expires Infinity"),
    ],
)
async def test_anything_but_an_unambiguous_okay_is_a_rejection(
    verifier: PersonaProvider,
    mock_verifier: respx.MockRouter,
    clock: FakeClock,
    changes: dict[str, object],
) -> None:
    answer = okay(clock)
    answer.update(changes)
    # json.dumps writes NaN and Infinity as a careless verifier would (httpx's json= refuses).
    body = json.dumps({key: value for key, value in answer.items() if value is not None})
    mock_verifier.post(URL).respond(
        content=body.encode(), headers={"content-type": "application/json"}
    )

    with pytest.raises(AssertionRejected):
        await verifier.verify("a")


async def test_expired_answer_is_a_rejection(
    verifier: PersonaProvider, mock_verifier: respx.MockRouter, clock: FakeClock
) -> None:
    now_ms = int(clock().timestamp() * 1000)
    mock_verifier.post(URL).respond(json=okay(clock, expires=now_ms - 1))

    with pytest.raises(AssertionRejected, match="expired"):
        await verifier.verify("a")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 301, 204])
async def test_non_200_below_500_is_a_rejection(
    verifier: PersonaProvider, mock_verifier: respx.MockRouter, clock: FakeClock, status: int
) -> None:
    mock_verifier.post(URL).respond(status, json=okay(clock))

    with pytest.raises(AssertionRejected):
        await verifier.verify("a")


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(httpx.Response(500), id="500"),
        pytest.param(httpx.Response(502, text="Bad Gateway"), id="502"),
        pytest.param(httpx.Response(503, json={"status": "okay"}), id="503 with okay body"),
        pytest.param(httpx.Response(200, text="<html>oops</html>"), id="HTML"),
        pytest.param(httpx.Response(200, text=""), id="empty body"),
        pytest.param(httpx.Response(200, json=["okay"]), id="JSON array"),
        pytest.param(httpx.Response(200, json="okay"), id="JSON string"),
    ],
)
async def test_no_usable_answer_means_unavailable(
    verifier: PersonaProvider, mock_verifier: respx.MockRouter, response: httpx.Response
) -> None:
    mock_verifier.post(URL).mock(return_value=response)

    with pytest.raises(VerifierUnavailable):
        await verifier.verify("a")


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("slow connect"),
        httpx.ReadTimeout("slow answer"),
        httpx.RemoteProtocolError("garbled"),
    ],
    ids=type,
)
async def test_transport_failures_mean_unavailable(
    verifier: PersonaProvider, mock_verifier: respx.MockRouter, error: Exception
) -> None:
    mock_verifier.post(URL).mock(side_effect=error)

    with pytest.raises(VerifierUnavailable):
        await verifier.verify("a")


async def test_the_configured_timeout_is_used(
    verifier: PersonaProvider, mock_verifier: respx.MockRouter, clock: FakeClock
) -> None:
    route = mock_verifier.post(URL).respond(json=okay(clock))

    await verifier.verify("a")

    assert route.calls.last.request.extensions["timeout"] == {
        "connect": 2.0,
        "read": 2.0,
        "write": 2.0,
        "pool": 2.0,
    }


async def test_rejections_log_the_reason_but_never_the_assertion(
    verifier: PersonaProvider,
    mock_verifier: respx.MockRouter,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    mock_verifier.post(URL).respond(json=okay(clock, status="failure", reason="bad signature"))

    with caplog.at_level(logging.INFO), pytest.raises(AssertionRejected):
        await verifier.verify("top-secret-assertion")

    assert "bad signature" in caplog.text
    assert "top-secret-assertion" not in caplog.text


async def test_logged_reasons_cannot_forge_log_lines(
    verifier: PersonaProvider,
    mock_verifier: respx.MockRouter,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    forged = "nope\nINFO login succeeded for admin@example.com" + "x" * 1000
    mock_verifier.post(URL).respond(json=okay(clock, status="failure", reason=forged))

    with caplog.at_level(logging.INFO), pytest.raises(AssertionRejected):
        await verifier.verify("a")

    (record,) = (record for record in caplog.records if record.name == "signet.verifier")
    assert "\n" not in record.getMessage()
    assert len(record.getMessage()) < 500


async def test_a_failed_connection_is_retried_once(
    verifier: PersonaProvider, mock_verifier: respx.MockRouter, clock: FakeClock
) -> None:
    route = mock_verifier.post(URL).mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=okay(clock))]
    )

    identity = await verifier.verify("a")

    assert identity.email == "edith@example.com"
    assert route.call_count == 2


async def test_a_connection_failing_twice_is_unavailable(
    verifier: PersonaProvider, mock_verifier: respx.MockRouter
) -> None:
    route = mock_verifier.post(URL).mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(VerifierUnavailable):
        await verifier.verify("a")
    assert route.call_count == 2


async def test_a_timeout_is_not_retried(
    verifier: PersonaProvider, mock_verifier: respx.MockRouter, clock: FakeClock
) -> None:
    route = mock_verifier.post(URL).mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=okay(clock))]
    )

    with pytest.raises(VerifierUnavailable):
        await verifier.verify("a")
    assert route.call_count == 1


async def _endless_answer() -> AsyncIterator[bytes]:
    while True:  # a verifier that never stops talking, with no Content-Length
        yield b" " * 16_384


@pytest.mark.parametrize(
    "make_response",
    [
        pytest.param(lambda: httpx.Response(200, content=b" " * 70_000), id="declared length"),
        pytest.param(lambda: httpx.Response(200, content=_endless_answer()), id="streamed"),
    ],
)
async def test_an_oversized_answer_is_unavailable(
    verifier: PersonaProvider,
    mock_verifier: respx.MockRouter,
    make_response: Callable[[], httpx.Response],
) -> None:
    mock_verifier.post(URL).mock(return_value=make_response())

    with pytest.raises(VerifierUnavailable, match="larger"):
        await verifier.verify("a")


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        pytest.param("120", 120, id="seconds"),
        pytest.param("Thu, 01 Jan 2026 12:02:00 GMT", 120, id="HTTP date"),
        pytest.param("999999", 3600, id="bounded"),
        pytest.param("soon", 5, id="unreadable"),
    ],
)
async def test_the_verifiers_retry_after_is_passed_on(
    verifier: PersonaProvider, mock_verifier: respx.MockRouter, retry_after: str, expected: int
) -> None:
    mock_verifier.post(URL).respond(503, headers={"retry-after": retry_after})

    with pytest.raises(VerifierUnavailable) as unavailable:
        await verifier.verify("a")

    assert unavailable.value.retry_after == expected
