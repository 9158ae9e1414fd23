"""OIDC ID tokens against keys made in the test, served by respx: OIDC Core 3.1.3.7 rules."""

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from sqlalchemy.ext.asyncio import AsyncEngine

from api.auth.providers.base import AssertionRejected, Identity, VerifierUnavailable
from api.auth.providers.jwks import ProviderKeys
from api.auth.providers.oidc import OIDCProvider
from api.config import Settings
from api.testing import FakeClock
from tests.apps import client_of, running

ISSUER = "https://idp.example"
DISCOVERY_URL = f"{ISSUER}/.well-known/openid-configuration"
JWKS_URL = f"{ISSUER}/keys"
CLIENT_ID = "signet-web"
OTHER_CLIENT_ID = "signet-ios"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def rotated_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_jwk(key: PrivateKey, kid: str) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig"}


@pytest.fixture
def jwks(rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    return {"keys": [public_jwk(rsa_key, "rsa-1"), public_jwk(ec_key, "ec-1")]}


@pytest.fixture
def provider(jwks: dict[str, Any]) -> Iterator[respx.MockRouter]:
    """The identity provider: discovery document and keys, with a day-long max-age."""
    with respx.mock(assert_all_called=False) as router:
        router.get(DISCOVERY_URL, name="discovery").respond(
            json={"issuer": ISSUER, "jwks_uri": JWKS_URL}
        )
        router.get(JWKS_URL, name="jwks").respond(
            json=jwks, headers={"cache-control": "public, max-age=86400"}
        )
        yield router


@pytest.fixture
def keys() -> ProviderKeys:
    return ProviderKeys(issuer=ISSUER, jwks_url=None, timeout=2.0)


@pytest.fixture
def verifier(http_client: httpx.AsyncClient, keys: ProviderKeys, clock: FakeClock) -> OIDCProvider:
    return OIDCProvider(
        name="idp",
        client=http_client,
        keys=keys,
        issuer=ISSUER,
        client_ids=[CLIENT_ID, OTHER_CLIENT_ID],
        leeway=60,
        clock=clock,
    )


TokenFactory = Callable[..., str]


@pytest.fixture
def make_token(rsa_key: rsa.RSAPrivateKey, clock: FakeClock) -> TokenFactory:
    """A valid ID token for edith, signed RS256 by rsa-1; keyword arguments change claims."""

    def make(
        *,
        key: PrivateKey | None = None,
        kid: str | None = "rsa-1",
        alg: str = "RS256",
        **changes: object,
    ) -> str:
        now = int(clock().timestamp())
        claims: dict[str, object] = {
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "sub": "1234",
            "iat": now,
            "exp": now + 3600,
            "email": "Edith@Example.com",
            "email_verified": True,
        }
        claims.update(changes)
        payload = {name: value for name, value in claims.items() if value is not None}
        headers = {"kid": kid} if kid is not None else {}
        return jwt.encode(payload, key or rsa_key, algorithm=alg, headers=headers)

    return make


async def test_a_valid_rsa_token_proves_its_normalised_email(
    verifier: OIDCProvider, provider: respx.MockRouter, make_token: TokenFactory
) -> None:
    identity = await verifier.verify(make_token())

    assert identity == Identity(
        email="edith@example.com", issuer=ISSUER, subject="1234", email_verified=False
    )
    assert provider["discovery"].call_count == 1
    assert provider["jwks"].call_count == 1


async def test_a_valid_ec_token_is_accepted(
    verifier: OIDCProvider,
    provider: respx.MockRouter,
    make_token: TokenFactory,
    ec_key: ec.EllipticCurvePrivateKey,
) -> None:
    identity = await verifier.verify(make_token(key=ec_key, kid="ec-1", alg="ES256"))

    assert identity.email == "edith@example.com"


async def test_expiry_allows_the_leeway_and_no_more(
    verifier: OIDCProvider, provider: respx.MockRouter, make_token: TokenFactory, clock: FakeClock
) -> None:
    now = int(clock().timestamp())

    await verifier.verify(make_token(exp=now - 60))
    with pytest.raises(AssertionRejected, match="expired"):
        await verifier.verify(make_token(exp=now - 61))


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        pytest.param({"nbf": "+61"}, "not yet valid", id="not yet valid beyond leeway"),
        pytest.param({"iat": "+61"}, "future", id="issued in the future"),
        pytest.param({"exp": None}, "exp", id="no exp"),
        pytest.param({"iat": None}, "iat", id="no iat"),
        pytest.param({"iss": "https://evil.example"}, "issuer", id="wrong issuer"),
        pytest.param({"iss": None}, "issuer", id="no issuer"),
        pytest.param({"aud": "someone-else"}, "audience", id="wrong audience"),
        pytest.param({"aud": [CLIENT_ID, "untrusted"]}, "audience", id="extra untrusted audience"),
        pytest.param({"aud": []}, "audience", id="empty audience"),
        pytest.param({"aud": None}, "audience", id="no audience"),
        pytest.param({"aud": [CLIENT_ID, OTHER_CLIENT_ID]}, "authorized party", id="no azp"),
        pytest.param({"azp": "someone-else"}, "authorized party", id="wrong azp"),
        pytest.param({"email_verified": False}, "not verified", id="unverified email"),
        pytest.param({"email_verified": "false"}, "not verified", id="unverified, as string"),
        pytest.param({"email_verified": "true"}, "not verified", id="true, but as a string"),
        pytest.param({"email": None}, "email", id="no email"),
        pytest.param({"email": "not-an-address"}, "email", id="invalid email"),
    ],
)
async def test_claims_that_break_a_rule_are_rejected(
    verifier: OIDCProvider,
    provider: respx.MockRouter,
    make_token: TokenFactory,
    clock: FakeClock,
    changes: dict[str, object],
    reason: str,
) -> None:
    now = int(clock().timestamp())
    relative = {
        name: now + int(value[1:]) if isinstance(value, str) and value.startswith("+") else value
        for name, value in changes.items()
    }

    with pytest.raises(AssertionRejected, match=reason):
        await verifier.verify(make_token(**relative))


async def test_several_trusted_audiences_need_our_authorized_party(
    verifier: OIDCProvider, provider: respx.MockRouter, make_token: TokenFactory
) -> None:
    token = make_token(aud=[CLIENT_ID, OTHER_CLIENT_ID], azp=CLIENT_ID)

    assert (await verifier.verify(token)).email == "edith@example.com"


@pytest.mark.parametrize(
    ("trusted", "claim", "verified"),
    [
        pytest.param(True, True, True, id="trusted, email_verified true"),
        pytest.param(True, None, True, id="trusted, no email_verified"),
        pytest.param(False, True, False, id="untrusted, email_verified true"),
        pytest.param(False, None, False, id="untrusted, no email_verified"),
    ],
)
async def test_whether_the_email_is_verified_is_the_providers_trust_not_the_claims(
    http_client: httpx.AsyncClient,
    keys: ProviderKeys,
    clock: FakeClock,
    provider: respx.MockRouter,
    make_token: TokenFactory,
    trusted: bool,
    claim: bool | None,
    verified: bool,
) -> None:
    verifier = OIDCProvider(
        name="idp",
        client=http_client,
        keys=keys,
        issuer=ISSUER,
        client_ids=[CLIENT_ID],
        leeway=60,
        clock=clock,
        trust_email=trusted,
    )

    identity = await verifier.verify(make_token(email_verified=claim))

    assert (identity.email, identity.email_verified) == ("edith@example.com", verified)
    assert identity.subject == "1234"


async def test_a_tampered_payload_is_rejected(
    verifier: OIDCProvider, provider: respx.MockRouter, make_token: TokenFactory
) -> None:
    header, payload, signature = make_token().split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["email"] = "mallory@example.com"
    forged_payload = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()

    with pytest.raises(AssertionRejected, match="signature"):
        await verifier.verify(f"{header}.{forged_payload}.{signature}")


async def test_alg_none_is_refused(
    verifier: OIDCProvider, provider: respx.MockRouter, make_token: TokenFactory
) -> None:
    token = jwt.encode(
        {"iss": ISSUER, "aud": CLIENT_ID, "email": "e@example.com"},
        None,  # type: ignore[arg-type]  # "none" signs with no key
        algorithm="none",
    )

    with pytest.raises(AssertionRejected, match="not allowed"):
        await verifier.verify(token)
    assert provider["jwks"].call_count == 0


async def test_an_hmac_token_signed_with_the_public_key_is_refused(
    verifier: OIDCProvider,
    provider: respx.MockRouter,
    rsa_key: rsa.RSAPrivateKey,
    clock: FakeClock,
) -> None:
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(clock().timestamp())
    claims = {"iss": ISSUER, "aud": CLIENT_ID, "iat": now, "exp": now + 60, "email": "e@x.io"}
    # PyJWT itself refuses to HMAC with a PEM key, so sign by hand, as an attacker would.
    header = jwt.utils.base64url_encode(b'{"alg":"HS256","kid":"rsa-1","typ":"JWT"}')
    body = jwt.utils.base64url_encode(json.dumps(claims).encode())
    signature = hmac.new(public_pem, header + b"." + body, hashlib.sha256).digest()
    token = b".".join((header, body, jwt.utils.base64url_encode(signature))).decode()

    with pytest.raises(AssertionRejected, match="not allowed"):
        await verifier.verify(token)


async def test_an_algorithm_that_does_not_fit_the_key_is_refused(
    verifier: OIDCProvider,
    provider: respx.MockRouter,
    make_token: TokenFactory,
    ec_key: ec.EllipticCurvePrivateKey,
) -> None:
    # Signed with the EC key, but naming the RSA key's id.
    token = make_token(key=ec_key, kid="rsa-1", alg="ES256")

    with pytest.raises(AssertionRejected, match="does not fit"):
        await verifier.verify(token)


async def test_garbage_is_rejected(verifier: OIDCProvider, provider: respx.MockRouter) -> None:
    with pytest.raises(AssertionRejected, match="not a JWT"):
        await verifier.verify("not.a.jwt")


async def test_an_unknown_kid_refetches_and_finds_the_rotated_key(
    verifier: OIDCProvider,
    provider: respx.MockRouter,
    make_token: TokenFactory,
    rotated_rsa_key: rsa.RSAPrivateKey,
    jwks: dict[str, Any],
    clock: FakeClock,
) -> None:
    await verifier.verify(make_token())
    provider["jwks"].respond(json={"keys": [*jwks["keys"], public_jwk(rotated_rsa_key, "rsa-2")]})
    clock.advance(11)

    identity = await verifier.verify(make_token(key=rotated_rsa_key, kid="rsa-2"))

    assert identity.email == "edith@example.com"
    assert provider["jwks"].call_count == 2


async def test_a_kid_still_unknown_after_refetching_is_rejected(
    verifier: OIDCProvider,
    provider: respx.MockRouter,
    make_token: TokenFactory,
    rotated_rsa_key: rsa.RSAPrivateKey,
    clock: FakeClock,
) -> None:
    await verifier.verify(make_token())
    clock.advance(11)

    with pytest.raises(AssertionRejected, match="unknown key"):
        await verifier.verify(make_token(key=rotated_rsa_key, kid="rsa-2"))
    assert provider["jwks"].call_count == 2


async def test_a_flood_of_unknown_kids_costs_at_most_one_fetch_per_interval(
    verifier: OIDCProvider, provider: respx.MockRouter, make_token: TokenFactory, clock: FakeClock
) -> None:
    await verifier.verify(make_token())  # the first fetch

    for round_ in range(3):
        clock.advance(11)  # each round may fetch once more: that kid is looked up, and rejected;
        with pytest.raises(AssertionRejected):
            await verifier.verify(make_token(kid=f"bogus-{round_}-first"))
        for attempt in range(99):  # the rest might be a rotation not yet seen: unavailable
            with pytest.raises(VerifierUnavailable):
                await verifier.verify(make_token(kid=f"bogus-{round_}-{attempt}"))

    assert provider["jwks"].call_count == 1 + 3


async def test_concurrent_misses_share_one_fetch(
    verifier: OIDCProvider, provider: respx.MockRouter, make_token: TokenFactory
) -> None:
    token = make_token()

    identities = await asyncio.gather(*(verifier.verify(token) for _ in range(20)))

    assert {identity.email for identity in identities} == {"edith@example.com"}
    assert provider["discovery"].call_count == 1
    assert provider["jwks"].call_count == 1


async def test_keys_are_refetched_when_their_max_age_runs_out(
    verifier: OIDCProvider,
    provider: respx.MockRouter,
    make_token: TokenFactory,
    clock: FakeClock,
    jwks: dict[str, Any],
) -> None:
    provider["jwks"].respond(json=jwks, headers={"cache-control": "max-age=120"})
    await verifier.verify(make_token())
    clock.advance(119)
    await verifier.verify(make_token())
    assert provider["jwks"].call_count == 1

    clock.advance(2)
    await verifier.verify(make_token())

    assert provider["jwks"].call_count == 2


async def test_keys_endpoint_down_with_no_cached_key_is_unavailable(
    verifier: OIDCProvider, provider: respx.MockRouter, make_token: TokenFactory
) -> None:
    provider["jwks"].respond(503)

    with pytest.raises(VerifierUnavailable):
        await verifier.verify(make_token())


async def test_keys_endpoint_down_with_a_cached_key_keeps_logins_working(
    verifier: OIDCProvider, provider: respx.MockRouter, make_token: TokenFactory, clock: FakeClock
) -> None:
    await verifier.verify(make_token())
    provider["jwks"].mock(side_effect=httpx.ConnectError("down"))
    clock.advance(2 * 86400)  # the cached keys are stale now

    identity = await verifier.verify(make_token())

    assert identity.email == "edith@example.com"


@pytest.mark.parametrize(
    "discovery",
    [
        pytest.param({"issuer": "https://evil.example", "jwks_uri": JWKS_URL}, id="wrong issuer"),
        pytest.param({"issuer": ISSUER}, id="no jwks_uri"),
    ],
)
async def test_a_discovery_document_that_does_not_fit_is_unavailable(
    verifier: OIDCProvider,
    provider: respx.MockRouter,
    make_token: TokenFactory,
    discovery: dict[str, str],
) -> None:
    provider["discovery"].respond(json=discovery)

    with pytest.raises(VerifierUnavailable):
        await verifier.verify(make_token())


async def test_an_oversized_key_set_is_unavailable(
    verifier: OIDCProvider, provider: respx.MockRouter, make_token: TokenFactory
) -> None:
    provider["jwks"].respond(content=b"{" + b" " * 300_000 + b"}")

    with pytest.raises(VerifierUnavailable, match="larger"):
        await verifier.verify(make_token())


async def test_a_configured_jwks_url_skips_discovery(
    http_client: httpx.AsyncClient,
    provider: respx.MockRouter,
    make_token: TokenFactory,
    clock: FakeClock,
) -> None:
    keys = ProviderKeys(issuer=ISSUER, jwks_url=JWKS_URL, timeout=2.0)
    verifier = OIDCProvider(
        name="idp",
        client=http_client,
        keys=keys,
        issuer=ISSUER,
        client_ids=[CLIENT_ID],
        leeway=60,
        clock=clock,
    )

    await verifier.verify(make_token())

    assert provider["discovery"].call_count == 0


@pytest.mark.parametrize("spelling", ["https://accounts.google.com", "accounts.google.com"])
async def test_google_is_accepted_under_either_issuer_spelling(
    http_client: httpx.AsyncClient,
    provider: respx.MockRouter,
    make_token: TokenFactory,
    clock: FakeClock,
    spelling: str,
) -> None:
    keys = ProviderKeys(issuer="https://accounts.google.com", jwks_url=JWKS_URL, timeout=2.0)
    verifier = OIDCProvider(
        name="idp",
        client=http_client,
        keys=keys,
        issuer="https://accounts.google.com",
        client_ids=[CLIENT_ID],
        leeway=60,
        clock=clock,
    )

    identity = await verifier.verify(make_token(iss=spelling))

    assert identity.email == "edith@example.com"


@pytest.fixture
async def oidc_client(
    settings: Settings,
    engine: AsyncEngine,
    http_client: httpx.AsyncClient,
    clock: FakeClock,
    provider: respx.MockRouter,
) -> AsyncIterator[httpx.AsyncClient]:
    """The app configured with SIGNET_VERIFIER=oidc, its own verifier left in place."""
    oidc_settings = settings.model_copy(
        update={"verifier": "oidc", "oidc_issuer": ISSUER, "oidc_client_ids": (CLIENT_ID,)}
    )
    async with (
        running(oidc_settings, http_client=http_client, clock=clock) as app,
        client_of(app) as client,
    ):
        yield client


async def test_login_with_an_id_token(
    oidc_client: httpx.AsyncClient, provider: respx.MockRouter, make_token: TokenFactory
) -> None:
    response = await oidc_client.post("/auth/login", json={"assertion": make_token()})

    assert response.status_code == 200
    assert response.json()["email"] == "edith@example.com"
    assert (await oidc_client.get("/auth/me")).status_code == 200


async def test_login_while_the_provider_is_down_is_a_503(
    oidc_client: httpx.AsyncClient, provider: respx.MockRouter, make_token: TokenFactory
) -> None:
    provider["discovery"].mock(side_effect=httpx.ConnectError("down"))
    provider["jwks"].mock(side_effect=httpx.ConnectError("down"))

    response = await oidc_client.post("/auth/login", json={"assertion": make_token()})

    assert response.status_code == 503
    assert "retry-after" in response.headers


async def test_the_key_cache_outlives_a_request(
    oidc_client: httpx.AsyncClient, provider: respx.MockRouter, make_token: TokenFactory
) -> None:
    for _ in range(3):
        await oidc_client.post("/auth/login", json={"assertion": make_token()})

    assert provider["jwks"].call_count == 1


@pytest.mark.parametrize(
    ("typ", "accepted"),
    [("JWT", True), ("jwt", True), ("at+jwt", False), ("application/at+jwt", False)],
)
async def test_a_typ_header_must_say_jwt(
    verifier: OIDCProvider,
    provider: respx.MockRouter,
    make_token: TokenFactory,
    rsa_key: rsa.RSAPrivateKey,
    typ: str,
    accepted: bool,
) -> None:
    token = make_token()
    payload = jwt.decode(token, options={"verify_signature": False})
    retyped = jwt.encode(payload, rsa_key, algorithm="RS256", headers={"kid": "rsa-1", "typ": typ})

    if accepted:
        assert (await verifier.verify(retyped)).email == "edith@example.com"
    else:
        with pytest.raises(AssertionRejected, match="typ"):
            await verifier.verify(retyped)


async def test_the_ed25519_algorithm_name_verifies_with_an_ed25519_key(
    verifier: OIDCProvider, provider: respx.MockRouter, make_token: TokenFactory
) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    jwk = {**OKPAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "ed-1", "alg": "Ed25519"}
    provider["jwks"].respond(json={"keys": [jwk]})

    identity = await verifier.verify(make_token(key=key, kid="ed-1", alg="Ed25519"))

    assert identity.email == "edith@example.com"


@pytest.mark.parametrize(("published", "accepted"), [(1, True), (2, False)])
async def test_a_token_without_kid_verifies_only_against_a_single_key(
    verifier: OIDCProvider,
    provider: respx.MockRouter,
    make_token: TokenFactory,
    rsa_key: rsa.RSAPrivateKey,
    rotated_rsa_key: rsa.RSAPrivateKey,
    published: int,
    accepted: bool,
) -> None:
    keys = [public_jwk(rsa_key, "rsa-1"), public_jwk(rotated_rsa_key, "rsa-2")][:published]
    provider["jwks"].respond(json={"keys": keys})

    if accepted:
        assert (await verifier.verify(make_token(kid=None))).email == "edith@example.com"
    else:
        with pytest.raises(AssertionRejected, match="unknown key"):
            await verifier.verify(make_token(kid=None))


async def test_an_https_issuer_cannot_send_us_to_plain_http_keys(
    verifier: OIDCProvider, provider: respx.MockRouter, make_token: TokenFactory
) -> None:
    provider["discovery"].respond(
        json={"issuer": ISSUER, "jwks_uri": "http://keys.example/jwks.json"}
    )

    with pytest.raises(VerifierUnavailable, match="jwks_uri is not https"):
        await verifier.verify(make_token())


async def test_an_absurdly_nested_token_header_is_rejected_not_a_500(
    verifier: OIDCProvider, provider: respx.MockRouter
) -> None:
    header = base64.urlsafe_b64encode(("[" * 50_000 + "]" * 50_000).encode()).rstrip(b"=")
    token = f"{header.decode()}.e30.c2ln"

    with pytest.raises(AssertionRejected, match="not a JWT"):
        await verifier.verify(token)
