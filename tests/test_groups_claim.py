"""The groups claim: normalised into group names; missing, unreadable and overage told apart; read
from the ID token, or from userinfo when the code flow fetched it (respx, real signatures)."""

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from api.auth.flows import Flow
from api.auth.providers.groups_claim import claimed_groups
from api.auth.providers.jwks import ProviderKeys
from api.auth.providers.oidc import OIDCProvider
from api.testing import FakeClock

ISSUER = "https://idp.example"
CLIENT_ID = "signet-web"
TOKEN = f"{ISSUER}/token"
USERINFO = f"{ISSUER}/userinfo"


def groups(value: object, claim: str = "groups") -> tuple[str, ...] | None:
    return claimed_groups([{claim: value}], claim, provider="corp")


def test_names_are_lower_cased_distinct_and_sorted() -> None:
    assert groups(["Ops", "admins", "ADMINS", "dev.team"]) == ("admins", "dev.team", "ops")


def test_keycloaks_full_paths_lose_their_leading_slash() -> None:
    assert groups(["/admins", "/Staff"]) == ("admins", "staff")


def test_invalid_names_are_dropped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="signet.verifier"):
        # A nested Keycloak group keeps a "/" inside its path: not a group name.
        found = groups(["ops", "/staff/admins", "Domain Users", "", "-x", "a" * 65])

    assert found == ("ops",)
    assert "5 names in the groups claim are not group names" in caplog.text
    assert "'staff/admins'" in caplog.text
    assert "'domain users'" in caplog.text


def test_an_empty_array_is_no_groups() -> None:
    assert groups([]) == ()


def test_a_missing_claim_is_no_groups() -> None:
    assert claimed_groups([{"sub": "1"}, {"sub": "1"}], "groups", provider="corp") == ()


@pytest.mark.parametrize("value", ["admins", {"admins": True}, ["ops", 3], None, 7])
def test_a_claim_that_is_not_an_array_of_strings_leaves_the_groups_as_they_were(
    value: object, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="signet.verifier"):
        assert groups(value) is None

    assert "is not a JSON array of strings" in caplog.text


def test_entras_overage_marker_leaves_the_groups_as_they_were(
    caplog: pytest.LogCaptureFixture,
) -> None:
    overage = {
        "_claim_names": {"groups": "src1"},
        "_claim_sources": {
            "src1": {"endpoint": "https://graph.microsoft.com/v1.0/me/getMemberObjects"}
        },
    }
    with caplog.at_level(logging.WARNING, logger="signet.verifier"):
        assert claimed_groups([overage], "groups", provider="entra") is None

    assert "overage" in caplog.text


def test_an_overage_marker_for_another_claim_is_no_overage() -> None:
    source = {"_claim_names": {"roles": "src1"}, "groups": ["ops"]}

    assert claimed_groups([source], "groups", provider="corp") == ("ops",)


def test_the_configured_claim_name_is_the_one_read() -> None:
    assert groups(["ops"], claim="memberOf") == ("ops",)
    assert claimed_groups([{"groups": ["ops"]}], "memberOf", provider="corp") == ()


def test_the_id_tokens_claim_comes_before_userinfos() -> None:
    sources = [{"groups": ["from-token"]}, {"groups": ["from-userinfo"]}]

    assert claimed_groups(sources, "groups", provider="corp") == ("from-token",)
    assert claimed_groups([{}, sources[1]], "groups", provider="corp") == ("from-userinfo",)


# Through the provider: a posted ID token, and the code flow with userinfo.


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Stub:
    def __init__(self, key: rsa.RSAPrivateKey, clock: FakeClock) -> None:
        self.key, self.clock = key, clock
        self.claims: dict[str, Any] = {"email": "edith@example.com"}
        self.userinfo: dict[str, Any] = {"sub": "edith-1", "email": "edith@example.com"}
        self.nonce = ""

    def id_token(self) -> str:
        now = int(self.clock().timestamp())
        claims = {"iss": ISSUER, "aud": CLIENT_ID, "sub": "edith-1", "iat": now, "exp": now + 300}
        claims |= {"nonce": self.nonce} if self.nonce else {}
        return jwt.encode(claims | self.claims, self.key, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture
def stub(key: rsa.RSAPrivateKey, clock: FakeClock) -> Iterator[Stub]:
    stub = Stub(key, clock)
    jwk = {**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "k1", "use": "sig"}
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{ISSUER}/.well-known/openid-configuration").respond(
            json={
                "issuer": ISSUER,
                "authorization_endpoint": f"{ISSUER}/authorize",
                "token_endpoint": TOKEN,
                "userinfo_endpoint": USERINFO,
                "jwks_uri": f"{ISSUER}/keys",
            }
        )
        router.get(f"{ISSUER}/keys").respond(json={"keys": [jwk]})
        router.post(TOKEN).mock(
            side_effect=lambda _: httpx.Response(
                200, json={"id_token": stub.id_token(), "access_token": "at-1"}
            )
        )
        router.get(USERINFO).mock(side_effect=lambda _: httpx.Response(200, json=stub.userinfo))
        yield stub


def oidc(
    http_client: httpx.AsyncClient, clock: FakeClock, groups_claim: str | None
) -> OIDCProvider:
    return OIDCProvider(
        name="corp",
        client=http_client,
        keys=ProviderKeys(issuer=ISSUER, jwks_url=None, timeout=2.0),
        issuer=ISSUER,
        client_ids=[CLIENT_ID],
        leeway=60,
        clock=clock,
        client_id=CLIENT_ID,
        trust_email=True,
        groups_claim=groups_claim,
    )


async def complete(provider: OIDCProvider, stub: Stub) -> tuple[str, ...] | None:
    flow = Flow.start("corp", "/")
    stub.nonce = flow.nonce
    identity = await provider.complete(flow, code="c", redirect_uri="https://signet.example/cb")
    return identity.groups


async def test_a_posted_id_token_brings_its_groups(
    http_client: httpx.AsyncClient, clock: FakeClock, stub: Stub
) -> None:
    stub.claims["groups"] = ["/Admins", "ops"]

    identity = await oidc(http_client, clock, "groups").verify(stub.id_token())

    assert identity.groups == ("admins", "ops")


async def test_without_a_groups_claim_configured_the_groups_are_left_alone(
    http_client: httpx.AsyncClient, clock: FakeClock, stub: Stub
) -> None:
    stub.claims["groups"] = ["admins"]

    identity = await oidc(http_client, clock, None).verify(stub.id_token())

    assert identity.groups is None


async def test_a_token_without_the_claim_means_no_groups_from_the_provider(
    http_client: httpx.AsyncClient, clock: FakeClock, stub: Stub
) -> None:
    identity = await oidc(http_client, clock, "groups").verify(stub.id_token())

    assert identity.groups == ()


async def test_the_code_flow_reads_userinfos_groups_when_it_fetched_userinfo(
    http_client: httpx.AsyncClient, clock: FakeClock, stub: Stub
) -> None:
    stub.claims = {}  # no email in the ID token: userinfo is fetched
    stub.userinfo["groups"] = ["Ops"]

    assert await complete(oidc(http_client, clock, "groups"), stub) == ("ops",)


async def test_the_id_tokens_groups_win_over_userinfos(
    http_client: httpx.AsyncClient, clock: FakeClock, stub: Stub
) -> None:
    stub.claims = {"groups": ["admins"]}
    stub.userinfo["groups"] = ["ops"]

    assert await complete(oidc(http_client, clock, "groups"), stub) == ("admins",)


async def test_userinfo_is_not_fetched_for_groups_alone(
    http_client: httpx.AsyncClient, clock: FakeClock, stub: Stub
) -> None:
    # The ID token has the email, so userinfo is not asked; its groups are not seen.
    stub.userinfo["groups"] = ["ops"]

    assert await complete(oidc(http_client, clock, "groups"), stub) == ()
