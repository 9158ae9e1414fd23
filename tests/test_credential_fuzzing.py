"""Whatever arrives as a cookie or an Authorization header, the answer is a 401, never a 500."""

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Header values as raw bytes: anything but the line breaks HTTP itself would reject.
header_values = st.binary(max_size=600).filter(
    lambda value: b"\r" not in value and b"\n" not in value
)
token_like = st.from_regex(rb"\A[A-Za-z0-9_\-.]{0,300}\Z")
fuzz = settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])


@fuzz
@given(value=header_values | token_like)
async def test_arbitrary_cookies_are_401(client: httpx.AsyncClient, value: bytes) -> None:
    response = await client.get(
        "/auth/me", headers=[(b"cookie", b"__Host-signet_session=" + value)]
    )

    assert response.status_code == 401


@fuzz
@given(value=header_values | token_like.map(lambda token: b"Bearer " + token))
async def test_arbitrary_authorization_headers_are_401(
    client: httpx.AsyncClient, value: bytes
) -> None:
    response = await client.get("/auth/me", headers=[(b"authorization", value)])

    assert response.status_code == 401
