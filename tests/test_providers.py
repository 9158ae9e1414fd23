"""Several providers at once: SIGNET_PROVIDERS, each provider's variables, and choosing one."""

from collections.abc import AsyncIterator
from urllib.parse import quote, urlencode

import httpx
import pytest
import respx
from pydantic import ValidationError

from api.auth.providers.registry import ProviderMisconfigured
from api.config import Settings, describe_errors
from api.web.sign_in_html import PASSKEY_SCRIPT
from tests.apps import persona_okay, serving

ALPHA_URL = "https://alpha.example/verify"
BETA_URL = "https://beta.example/verify"
PUBLIC_URL = "https://auth.app.example"


def configured(settings: Settings, names: str, **variables: str) -> Settings:
    """`settings` offering `names`, with SIGNET_PROVIDER_* `variables`."""
    return Settings(
        **settings.model_dump(
            exclude_unset=True, exclude={"verifier_url", "provider_variables", "providers"}
        ),
        providers=names,
        public_url=PUBLIC_URL,
        provider_variables={f"SIGNET_PROVIDER_{key}": value for key, value in variables.items()},
    )


def refusal(settings: Settings, names: str, **variables: str) -> str:
    with pytest.raises(ValidationError) as refused:
        configured(settings, names, **variables)
    return describe_errors(refused.value)


def test_presets_fill_in_kind_issuer_display_name_and_trust(settings: Settings) -> None:
    google, corp = configured(
        settings,
        "google,corp",
        GOOGLE_CLIENT_ID="g-web",
        CORP_KIND="oidc",
        CORP_ISSUER="https://sso.corp.example",
        CORP_CLIENT_ID="c-web",
        CORP_EXTRA_CLIENT_IDS="c-ios, c-android",
    ).provider_configs

    assert (google.name, google.kind, google.issuer) == (
        "google",
        "oidc",
        "https://accounts.google.com",
    )
    assert (google.display_name, google.trust_email) == ("Google", True)
    assert (corp.display_name, corp.trust_email) == ("Corp", False)
    assert corp.scopes == ("openid", "email", "profile")
    assert corp.accepted_client_ids == ("c-web", "c-ios", "c-android")


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        (
            {"CORP_KIND": "oidc", "CORP_ISSUER": "https://sso.corp.example"},
            "SIGNET_PROVIDER_CORP_CLIENT_ID",
        ),
        ({"CORP_KIND": "saml"}, "SIGNET_PROVIDER_CORP_KIND"),
        ({"CORP_KIND": "oidc", "CORP_CLIENT_ID": "c"}, "SIGNET_PROVIDER_CORP_ISSUER"),
        (
            {"CORP_KIND": "oidc", "CORP_CLIENT_ID": "c", "CORP_ISSUER": "http://sso.example"},
            "SIGNET_PROVIDER_CORP_ISSUER",
        ),
        (
            {"CORP_KIND": "persona", "CORP_VERIFIER_URL": "ftp://x"},
            "SIGNET_PROVIDER_CORP_VERIFIER_URL",
        ),
        (
            {"CORP_KIND": "persona", "CORP_VERIFER_URL": "https://x"},
            "SIGNET_PROVIDER_CORP_VERIFER_URL",
        ),
        (
            {"CORP_KIND": "persona", "CORP_VERIFIER_URL": ALPHA_URL, "CORP_TRUST_EMAIL": "yes"},
            "SIGNET_PROVIDER_CORP_TRUST_EMAIL",
        ),
    ],
)
def test_a_wrong_provider_setting_is_refused_by_name(
    settings: Settings, variables: dict[str, str], named: str
) -> None:
    assert named in refusal(settings, "corp", **variables)


def test_the_email_provider_cannot_be_untrusted_signet_proves_its_addresses(
    settings: Settings,
) -> None:
    refused = refusal(settings, "email", EMAIL_TRUST_EMAIL="false")

    assert "SIGNET_PROVIDER_EMAIL_TRUST_EMAIL cannot be false" in refused


def test_single_provider_settings_are_refused_beside_the_list(settings: Settings) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(
            **settings.model_dump(exclude_unset=True, exclude={"provider_variables"}),
            providers="alpha",
            provider_variables={
                "SIGNET_PROVIDER_ALPHA_KIND": "persona",
                "SIGNET_PROVIDER_ALPHA_VERIFIER_URL": ALPHA_URL,
            },
        )

    assert "SIGNET_VERIFIER_URL" in describe_errors(refused.value)


@pytest.mark.parametrize("names", ["my-corp", "my_corp", "9lives", "alpha,alpha"])
def test_provider_names_are_checked(settings: Settings, names: str) -> None:
    assert "SIGNET_PROVIDERS" in refusal(settings, names)


def test_oidc_providers_need_the_public_url_in_production(settings: Settings) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(
            **settings.model_dump(
                exclude_unset=True, exclude={"verifier_url", "provider_variables"}
            ),
            providers="google",
            provider_variables={"SIGNET_PROVIDER_GOOGLE_CLIENT_ID": "g-web"},
        )

    assert "SIGNET_PUBLIC_URL" in describe_errors(refused.value)


def test_the_audience_defaults_to_the_origin_of_the_public_url(settings: Settings) -> None:
    values = settings.model_dump(exclude_unset=True, exclude={"audience"})

    changed = Settings(**values, public_url="https://auth.example.com/signet")

    assert changed.audience == "https://auth.example.com"


@pytest.fixture
async def two_personas(
    settings: Settings, engine: object, http_client: httpx.AsyncClient
) -> AsyncIterator[httpx.AsyncClient]:
    two = configured(
        settings,
        "alpha,beta",
        ALPHA_KIND="persona",
        ALPHA_VERIFIER_URL=ALPHA_URL,
        BETA_KIND="persona",
        BETA_VERIFIER_URL=BETA_URL,
        BETA_DISPLAY_NAME="Beta Login",
    )
    async with serving(two, http_client=http_client) as client:
        yield client


def okay(email: str) -> httpx.Response:
    return httpx.Response(200, json=persona_okay(email))


async def test_the_providers_are_listed_in_order(two_personas: httpx.AsyncClient) -> None:
    response = await two_personas.get("/auth/providers")

    assert response.status_code == 200
    assert response.json() == [
        {"name": "alpha", "kind": "persona", "display_name": "Alpha", "start_url": None},
        {"name": "beta", "kind": "persona", "display_name": "Beta Login", "start_url": None},
    ]


async def test_a_posted_assertion_goes_to_the_provider_it_names(
    two_personas: httpx.AsyncClient,
) -> None:
    with respx.mock(assert_all_called=False) as mock:
        alpha = mock.post(ALPHA_URL).mock(return_value=okay("alpha@example.com"))
        beta = mock.post(BETA_URL).mock(return_value=okay("beta@example.com"))

        response = await two_personas.post(
            "/auth/login", json={"provider": "beta", "assertion": "a"}
        )

    assert response.status_code == 200
    assert response.json()["email"] == "beta@example.com"
    assert (alpha.call_count, beta.call_count) == (0, 1)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"assertion": "a"}, "provider-required"),
        ({"provider": "gamma", "assertion": "a"}, "unknown-provider"),
    ],
)
async def test_with_several_providers_the_assertion_must_name_an_offered_one(
    two_personas: httpx.AsyncClient, body: dict[str, str], problem: str
) -> None:
    with respx.mock(assert_all_called=False) as mock:
        verifier = mock.post(ALPHA_URL).mock(return_value=okay("alpha@example.com"))

        response = await two_personas.post("/auth/login", json=body)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == f"urn:signet:problem:{problem}"
    assert verifier.call_count == 0


async def test_a_single_provider_is_named_after_its_kind(
    client: httpx.AsyncClient,
) -> None:
    listed = (await client.get("/auth/providers")).json()

    assert [(item["name"], item["kind"]) for item in listed] == [("persona", "persona")]


async def test_the_sign_in_page_offers_a_button_per_redirect_provider(
    settings: Settings, engine: object, http_client: httpx.AsyncClient
) -> None:
    two = configured(
        settings,
        "google,corp",
        GOOGLE_CLIENT_ID="g-web",
        CORP_KIND="oidc",
        CORP_ISSUER="https://sso.corp.example",
        CORP_CLIENT_ID="c-web",
        CORP_DISPLAY_NAME="Corp <SSO>",
    )
    with respx.mock(assert_all_called=True) as discovery:  # each is asked at start
        for issuer in ("https://accounts.google.com", "https://sso.corp.example"):
            discovery.get(f"{issuer}/.well-known/openid-configuration").respond(
                json={"issuer": issuer}
            )
        async with serving(two, http_client=http_client) as client:
            response = await client.get("/auth/sign-in", params={"return_to": "/x?a=1&b=2"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "Sign in with Google" in page
    assert "Sign in with Corp &lt;SSO&gt;" in page  # escaped, never markup
    # The flow comes back to the sign-in page, which goes on to /x?a=1&b=2 once signed in, or
    # says what went wrong.
    back = quote("/auth/sign-in?" + urlencode({"return_to": "/x?a=1&b=2"}), safe="")
    assert f'href="{PUBLIC_URL}/auth/providers/google/start?return_to={back}"' in page
    # The one script is the page's own passkey script, nothing a provider's name brought.
    assert page.count("<script") == 1
    assert f'<script type="module">{PASSKEY_SCRIPT}</script>' in page


def corp_settings(settings: Settings) -> Settings:
    return configured(
        settings,
        "corp",
        CORP_KIND="oidc",
        CORP_ISSUER="https://sso.corp.example",
        CORP_CLIENT_ID="c-web",
    )


async def test_a_discovery_document_naming_another_issuer_stops_the_start(
    settings: Settings, engine: object, http_client: httpx.AsyncClient
) -> None:
    with respx.mock() as discovery:
        discovery.get("https://sso.corp.example/.well-known/openid-configuration").respond(
            json={"issuer": "https://sso.corp.example/"}
        )
        with pytest.raises(ProviderMisconfigured) as refused:
            async with serving(corp_settings(settings), http_client=http_client):
                pass

    assert "'https://sso.corp.example/'" in str(refused.value)
    assert "'https://sso.corp.example'" in str(refused.value)


async def test_a_provider_unreachable_at_start_is_logged_and_the_service_starts(
    settings: Settings,
    engine: object,
    http_client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with respx.mock() as discovery:
        discovery.get("https://sso.corp.example/.well-known/openid-configuration").mock(
            side_effect=httpx.ConnectError("down")
        )
        async with serving(corp_settings(settings), http_client=http_client) as client:
            started = await client.get("/auth/providers/corp/start")

    assert "provider corp unavailable at start" in caplog.text
    assert started.status_code == 303
    assert started.headers["location"] == "/?signet_error=provider_unavailable"
