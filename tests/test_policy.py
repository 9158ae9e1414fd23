"""Who may come in: SIGNET_ALLOWED_DOMAINS and SIGNET_ALLOWED_EMAILS, and each provider's own
ALLOWED_DOMAINS, at every sign-in and at every session check."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import SQLModel

from api.auth.policy import Policy, allow_list, domain_entry
from api.config import Settings, describe_errors
from api.store.tables import IdentityRow, SessionRow, User
from api.testing import FakeClock, FakeProvider
from tests.apps import APP_ORIGIN, persona_okay, serving
from tests.databases import count_rows
from tests.test_provider_trust import Stub, provider_variables, sign_in_through
from tests.test_redirect_flow import back_with_error, key, stub

__all__ = ["key", "stub"]  # fixtures of the stub OpenID provider

COOKIE = "__Host-signet_session"
NOT_ALLOWED = "urn:signet:problem:not-allowed"
ALPHA_URL = "https://alpha.example/verify"
BETA_URL = "https://beta.example/verify"
TABLES: tuple[type[SQLModel], ...] = (User, IdentityRow, SessionRow)


def policy(*, emails: tuple[str, ...] = (), domains: tuple[str, ...] = ()) -> Policy:
    entries = allow_list(emails=emails, domains=[domain_entry(d) for d in domains])
    return Policy(everyone=entries, per_provider={})


@pytest.mark.parametrize(
    ("email", "admitted"),
    [
        ("ann@corp.example", True),
        ("ann@eu.corp.example", True),  # *.corp.example
        ("ann@x.eu.corp.example", True),
        ("ann@notcorp.example", False),
        ("ann@corp.example.evil", False),
        ("ann@exämple.com", True),  # listed in punycode
        ("bob@elsewhere.example", True),  # listed email
        ("carol@elsewhere.example", False),
    ],
)
def test_domains_match_exactly_or_as_subdomains_and_emails_exactly(
    email: str, admitted: bool
) -> None:
    rules = policy(
        emails=("bob@elsewhere.example",),
        domains=("corp.example", "*.corp.example", "xn--exmple-cua.com"),
    )

    assert rules.admits(email, verified=True, provider=None) is admitted


def test_a_wildcard_domain_does_not_match_the_domain_itself() -> None:
    rules = policy(domains=("*.corp.example",))

    assert not rules.admits("ann@corp.example", verified=True, provider=None)
    assert rules.admits("ann@eu.corp.example", verified=True, provider=None)


def test_without_lists_everyone_even_unverified_with_lists_only_verified() -> None:
    assert policy().admits("ann@anywhere.example", verified=False, provider=None)
    assert not policy(domains=("corp.example",)).admits(
        "ann@corp.example", verified=False, provider=None
    )


def test_a_providers_domains_narrow_its_sign_ins_listed_emails_included() -> None:
    rules = Policy(
        everyone=allow_list(emails=("bob@partner.example",), domains=("corp.example",)),
        per_provider={"google": allow_list(domains=("corp.example",))},
    )

    assert rules.admits("bob@partner.example", verified=True, provider="email")
    assert not rules.admits("bob@partner.example", verified=True, provider="google")
    assert rules.admits("ann@corp.example", verified=True, provider="google")


@pytest.mark.parametrize(
    ("variables", "said"),
    [
        ({"allowed_domains": "corp.example,*"}, "SIGNET_ALLOWED_DOMAINS: '*' is not a domain"),
        ({"allowed_domains": "corp..example"}, "SIGNET_ALLOWED_DOMAINS: 'corp..example' is not"),
        ({"allowed_domains": "*corp.example"}, "SIGNET_ALLOWED_DOMAINS: '*corp.example' is not"),
        ({"allowed_emails": "ann@"}, "SIGNET_ALLOWED_EMAILS: 'ann@' is not an email address"),
    ],
)
def test_a_malformed_entry_stops_the_start_naming_the_variable_and_entry(
    settings: Settings, variables: dict[str, str], said: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        restarted(settings, **variables)

    assert describe_errors(refused.value).startswith(said)


def test_a_providers_malformed_domain_names_its_variable(settings: Settings) -> None:
    with pytest.raises(ValueError, match="SIGNET_PROVIDER_GOOGLE_ALLOWED_DOMAINS: '\\*'"):
        restarted(
            settings,
            providers="google",
            provider_variables={
                "SIGNET_PROVIDER_GOOGLE_CLIENT_ID": "g",
                "SIGNET_PROVIDER_GOOGLE_ALLOWED_DOMAINS": "*",
            },
        )


@pytest.fixture
def verifier(verifier: FakeProvider) -> FakeProvider:
    verifier.accept("ann", email="ann@corp.example", subject="ann")
    verifier.accept("ann-unverified", email="ann@corp.example", verified=False, subject="ms-ann")
    verifier.accept("zed", email="zed@elsewhere.example", subject="zed")
    return verifier


async def snapshot(db: AsyncSession) -> list[int]:
    return [await count_rows(db, table) for table in TABLES]


@pytest.mark.settings(allowed_domains="corp.example")
@pytest.mark.parametrize("route", ["/auth/login", "/auth/token"])
async def test_a_refused_sign_in_answers_403_and_creates_nothing(
    client: httpx.AsyncClient, db_session: AsyncSession, route: str
) -> None:
    before = await snapshot(db_session)

    for assertion in ("zed", "ann-unverified"):
        refused = await client.post(route, json={"assertion": assertion})

        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == NOT_ALLOWED
        assert "set-cookie" not in refused.headers
    assert await snapshot(db_session) == before
    assert (await client.post(route, json={"assertion": "ann"})).status_code == 200


def restarted(settings: Settings, **changes: Any) -> Settings:
    """The test's settings, changed; with SIGNET_PROVIDERS, without the single provider's."""
    kept = settings.model_dump(exclude_unset=True, exclude={"verifier_url"})
    if "providers" not in changes:
        kept["verifier_url"] = settings.verifier_url
    return Settings(**{**kept, **changes})


@pytest.fixture
async def serve(
    settings: Settings,
    engine: AsyncEngine,
    clock: FakeClock,
    http_client: httpx.AsyncClient,
    verifier: FakeProvider,
) -> Callable[..., Any]:
    """Start the app with settings changed, on the test's one database, as a restart would."""

    def start(**changes: Any) -> Any:
        return serving(
            restarted(settings, **changes), clock=clock, http_client=http_client, provider=verifier
        )

    return start


async def test_a_narrowed_policy_refuses_live_sessions_everywhere_and_widening_restores_them(
    serve: Any, settings: Settings
) -> None:
    async with serve() as before:
        signed_in = await before.post("/auth/login", json={"assertion": "zed"})
        bearer = (await before.post("/auth/token", json={"assertion": "zed"})).json()
    cookie = {"cookie": f"{COOKIE}={signed_in.cookies[COOKIE]}"}
    introspection = {"introspection_clients": "gateway:0123456789abcdef"}

    async with serve(allowed_domains="corp.example", **introspection) as narrowed:
        me = await narrowed.get("/auth/me", headers=cookie)
        check = await narrowed.get("/auth/check", headers=cookie)
        sessions = await narrowed.get("/auth/sessions", headers=cookie)
        introspected = await narrowed.post(
            "/auth/introspect",
            data={"token": bearer["access_token"]},
            auth=("gateway", "0123456789abcdef"),
        )
        bearer_me = await narrowed.get(
            "/auth/me", headers={"authorization": f"Bearer {bearer['access_token']}"}
        )
        page = await narrowed.get("/auth/sign-in", headers=cookie)

    assert (me.status_code, me.json()["type"]) == (403, NOT_ALLOWED)
    assert (check.status_code, check.json()["type"]) == (403, NOT_ALLOWED)
    assert "x-signet-email" not in check.headers
    assert (sessions.status_code, bearer_me.status_code) == (403, 403)
    assert introspected.json() == {"active": False}
    assert "Signed in" not in page.text  # the sign-in page counts it as signed out
    async with serve(allowed_domains="corp.example,elsewhere.example") as widened:
        assert (await widened.get("/auth/me", headers=cookie)).status_code == 200


async def test_signing_out_works_for_a_session_the_policy_refuses(
    serve: Any, db_session: AsyncSession
) -> None:
    async with serve() as before:
        signed_in = await before.post("/auth/login", json={"assertion": "zed"})
    cookie = {"cookie": f"{COOKIE}={signed_in.cookies[COOKIE]}"}

    async with serve(allowed_emails="ann@corp.example") as narrowed:
        assert (await narrowed.post("/auth/logout", headers=cookie)).status_code == 204

    assert await count_rows(db_session, SessionRow) == 0


async def test_a_providers_domains_hold_for_its_sessions_at_every_check(
    settings: Settings, engine: AsyncEngine, http_client: httpx.AsyncClient
) -> None:
    variables = {
        "SIGNET_PROVIDER_ALPHA_KIND": "persona",
        "SIGNET_PROVIDER_ALPHA_VERIFIER_URL": ALPHA_URL,
        "SIGNET_PROVIDER_BETA_KIND": "persona",
        "SIGNET_PROVIDER_BETA_VERIFIER_URL": BETA_URL,
    }
    narrowing = {**variables, "SIGNET_PROVIDER_BETA_ALLOWED_DOMAINS": "corp.example"}

    def through(variables: dict[str, str]) -> Settings:
        return restarted(settings, providers="alpha,beta", provider_variables=variables)

    async def login(client: httpx.AsyncClient, provider: str, email: str) -> httpx.Response:
        with respx.mock(assert_all_called=True) as mock:
            url = ALPHA_URL if provider == "alpha" else BETA_URL
            mock.post(url).respond(json=persona_okay(email))
            return await client.post("/auth/login", json={"provider": provider, "assertion": "a"})

    async with serving(through(variables), http_client=http_client) as before:
        zed_beta = await login(before, "beta", "zed@elsewhere.example")
    cookie = {"cookie": f"{COOKIE}={zed_beta.cookies[COOKIE]}"}

    async with serving(through(narrowing), http_client=http_client) as narrowed:
        me = await narrowed.get("/auth/me", headers=cookie)
        alpha = await login(narrowed, "alpha", "zed@elsewhere.example")
        beta = await login(narrowed, "beta", "zed@elsewhere.example")
        beta_ann = await login(narrowed, "beta", "ann@corp.example")

    assert me.status_code == 403
    assert (alpha.status_code, beta.status_code, beta_ann.status_code) == (200, 403, 200)


async def test_a_refused_redirect_sign_in_comes_back_with_not_allowed(
    settings: Settings,
    engine: AsyncEngine,
    clock: FakeClock,
    http_client: httpx.AsyncClient,
    stub: Stub,
    db_session: AsyncSession,
) -> None:
    corp = restarted(
        settings,
        providers="corp",
        public_url=APP_ORIGIN,
        allowed_domains="elsewhere.example",
        provider_variables=provider_variables("corp", "true"),
    )
    before = await snapshot(db_session)

    async with serving(corp, clock=clock, http_client=http_client) as client:
        refused = await sign_in_through(client, stub, "corp")

    assert back_with_error(refused) == "not_allowed"
    assert await snapshot(db_session) == before


async def test_readyz_shows_a_digest_of_the_settings_every_host_must_share(serve: Any) -> None:
    async with serve() as one, serve() as same, serve(sign_up="invite-only") as other:
        digests = [(await host.get("/readyz")).json()["policy"] for host in (one, same, other)]
    async with serve(allowed_domains="corp.example") as narrowed:
        digests.append((await narrowed.get("/readyz")).json()["policy"])

    assert digests[0] == digests[1]
    assert len({digests[0], digests[2], digests[3]}) == 3
