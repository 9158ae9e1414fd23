"""Microsoft: multi-tenant issuers matched against each token's tid, and emails it does not
vouch for (it never sends email_verified), against endpoints mocked with respx."""

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy.ext.asyncio import AsyncEngine

from api.config import Settings
from api.testing import FakeClock
from tests.apps import APP_ORIGIN, serving

BASE = "https://login.microsoftonline.com"
TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
CLIENT_ID = "ms-client"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def microsoft(key: rsa.RSAPrivateKey) -> Iterator[respx.MockRouter]:
    jwk = {**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "m1"}
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{BASE}/common/v2.0/.well-known/openid-configuration").respond(
            json={"issuer": f"{BASE}/{{tenantid}}/v2.0", "jwks_uri": f"{BASE}/common/keys"}
        )
        router.get(f"{BASE}/common/keys").respond(json={"keys": [jwk]})
        yield router


@pytest.fixture
async def client(
    settings: Settings,
    engine: AsyncEngine,
    clock: FakeClock,
    http_client: httpx.AsyncClient,
    microsoft: respx.MockRouter,
) -> AsyncIterator[httpx.AsyncClient]:
    configured = Settings(
        **settings.model_dump(exclude_unset=True, exclude={"verifier_url", "provider_variables"}),
        providers="microsoft",
        public_url=APP_ORIGIN,
        provider_variables={"SIGNET_PROVIDER_MICROSOFT_CLIENT_ID": CLIENT_ID},
    )
    async with serving(configured, clock=clock, http_client=http_client) as client:
        yield client


def token(key: rsa.RSAPrivateKey, clock: FakeClock, **changes: Any) -> str:
    now = int(clock().timestamp())
    claims = {
        "iss": f"{BASE}/{TENANT}/v2.0",
        "tid": TENANT,
        "aud": CLIENT_ID,
        "sub": "ms-sub-1",
        "iat": now,
        "exp": now + 300,
        "email": "edith@example.com",
        **changes,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "m1"})


async def test_a_token_from_any_tenant_makes_an_unverified_user(
    client: httpx.AsyncClient, microsoft: respx.MockRouter, key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    response = await client.post("/auth/login", json={"assertion": token(key, clock)})

    assert response.status_code == 200
    assert response.json()["email_verified"] is False


@pytest.mark.parametrize(
    "changes",
    [
        {"tid": "00000000-0000-0000-0000-000000000000"},  # the issuer names another tenant
        {"tid": None},
        {"iss": f"{BASE}/common/v2.0"},
    ],
)
async def test_the_issuer_must_be_the_tokens_own_tenant(
    client: httpx.AsyncClient,
    microsoft: respx.MockRouter,
    key: rsa.RSAPrivateKey,
    clock: FakeClock,
    changes: dict[str, Any],
) -> None:
    response = await client.post("/auth/login", json={"assertion": token(key, clock, **changes)})

    assert response.status_code == 401


def test_a_tenant_is_only_for_microsoft(settings: Settings) -> None:
    with pytest.raises(ValueError, match="SIGNET_PROVIDER_CORP_TENANT"):
        Settings(
            **settings.model_dump(
                exclude_unset=True, exclude={"verifier_url", "provider_variables"}
            ),
            providers="corp",
            public_url=APP_ORIGIN,
            provider_variables={
                "SIGNET_PROVIDER_CORP_KIND": "oidc",
                "SIGNET_PROVIDER_CORP_ISSUER": "https://sso.example",
                "SIGNET_PROVIDER_CORP_CLIENT_ID": "c",
                "SIGNET_PROVIDER_CORP_TENANT": "common",
            },
        )
