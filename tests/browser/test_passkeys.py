"""Edith signs in with a passkey in Chromium, a virtual authenticator standing in for her
laptop's: she adds one through the demo, signs out and back in with it, renames and removes it;
the sign-in page signs her in with it too."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.authenticators import Authenticator
from tests.servers import Server

pytestmark = pytest.mark.browser

EDITH = "edith@example.com"


@pytest.fixture
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Server]:
    # Development's own providers (Persona among them), on localhost: the RP ID is a name.
    environment = getattr(request, "param", {})
    server = Server(tmp_path, default_providers=True, environment=environment)
    yield server
    server.stop()


@pytest.fixture
def authenticator(page: Page) -> Authenticator:
    return Authenticator(page)


def sign_in_as_anyone(page: Page, email: str) -> None:
    page.click("#id_login")
    page.fill("#id_email", email)
    page.click("#id_continue")
    expect(page.locator("nav")).to_contain_text(f"Signed in as {email}")


def sign_out(page: Page) -> None:
    page.click("#id_logout")
    expect(page.locator("#id_login")).to_be_visible()


def add_a_passkey(page: Page, name: str) -> None:
    page.get_by_label("Name it (optional)").fill(name)
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("#id_passkeys li .device")).to_have_text([name])


def test_edith_adds_a_passkey_signs_in_with_it_renames_and_removes_it(
    page: Page, server: Server, authenticator: Authenticator
) -> None:
    # Signed in the usual way, Edith finds she has no passkey yet, and adds one.
    page.goto("/")
    sign_in_as_anyone(page, EDITH)
    expect(page.locator("#id_no_passkeys")).to_be_visible()
    add_a_passkey(page, "Laptop")
    expect(page.locator("#id_no_passkeys")).to_be_hidden()
    expect(page.locator("#id_passkeys")).to_contain_text("not used yet")
    # Her device keeps it as a discoverable credential: she need not type who she is.
    (credential,) = authenticator.credentials()
    assert credential["isResidentCredential"] is True

    # She signs out, then in with the passkey alone.
    sign_out(page)
    page.click("#id_login")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.locator("nav")).to_contain_text(f"Signed in as {EDITH}")
    expect(page.locator("#id_passkeys")).to_contain_text("last used")
    page.reload()
    expect(page.locator("nav")).to_contain_text(f"Signed in as {EDITH}")

    # She renames it, in place.
    page.get_by_role("button", name="Rename the passkey Laptop").click()
    page.get_by_label("New name for the passkey Laptop").fill("Work laptop")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#id_passkeys li .device")).to_have_text(["Work laptop"])
    page.reload()
    expect(page.locator("#id_passkeys li .device")).to_have_text(["Work laptop"])

    # She removes it: Signet no longer knows it, though her device still holds it.
    page.get_by_role("button", name="Remove the passkey Work laptop").click()
    expect(page.locator("#id_no_passkeys")).to_be_visible()
    expect(page.locator("#id_passkeys li")).to_have_count(0)
    assert len(authenticator.credentials()) == 1

    # So it no longer signs her in, and the page says why.
    sign_out(page)
    page.click("#id_login")
    with page.expect_response("**/auth/passkeys/authentication") as answer:
        page.get_by_role("button", name="Sign in with a passkey").click()
    assert answer.value.status == 401
    expect(page.locator("#id_error")).not_to_be_empty()
    expect(page.locator("#id_login")).to_be_visible()
    assert page.context.request.get(f"{server.url}/auth/me").status == 401


def test_a_second_passkey_on_the_same_device_is_refused(
    page: Page, authenticator: Authenticator
) -> None:
    # Signet lists the passkeys Edith has, so her device will not make a second one for it.
    page.goto("/")
    sign_in_as_anyone(page, EDITH)
    add_a_passkey(page, "Laptop")

    page.get_by_role("button", name="Add a passkey").click()

    expect(page.locator("#id_error")).to_be_visible()
    expect(page.locator("#id_passkeys li")).to_have_count(1)
    assert len(authenticator.credentials()) == 1


def has_a_passkey_and_is_signed_out(page: Page) -> None:
    page.goto("/")
    sign_in_as_anyone(page, EDITH)
    add_a_passkey(page, "Laptop")
    sign_out(page)


def test_the_sign_in_page_offers_her_passkey_in_the_email_fields_autofill(
    page: Page, server: Server, authenticator: Authenticator
) -> None:
    has_a_passkey_and_is_signed_out(page)

    # An application sends her to Signet's sign-in page, to come back to the demo. The email
    # field offers her passkey as she lands (the virtual device picks it at once, as she would
    # from the autofill list): she is signed in and back where she began, typing nothing.
    with page.expect_response("**/auth/passkeys/authentication") as answer:
        page.goto("/auth/sign-in?return_to=/")
    assert answer.value.status == 200
    expect(page.locator("nav")).to_contain_text(f"Signed in as {EDITH}")
    assert page.url == f"{server.url}/"


def test_the_sign_in_pages_button_signs_her_in_where_there_is_no_autofill(
    page: Page, server: Server, authenticator: Authenticator
) -> None:
    has_a_passkey_and_is_signed_out(page)
    page.add_init_script("PublicKeyCredential.isConditionalMediationAvailable = async () => false")

    page.goto("/auth/sign-in?return_to=/")
    email = page.get_by_label("Email address")
    expect(email).to_have_attribute("autocomplete", "username webauthn")
    expect(page.locator("#id_status")).to_have_count(0)  # still on the sign-in page
    page.get_by_role("button", name="Sign in with a passkey").click()

    # Signed in, she is back where she began.
    expect(page.locator("nav")).to_contain_text(f"Signed in as {EDITH}")
    assert page.url == f"{server.url}/"


def test_without_a_return_to_the_sign_in_page_says_who_signed_in(
    page: Page, authenticator: Authenticator
) -> None:
    has_a_passkey_and_is_signed_out(page)

    page.goto("/auth/sign-in")

    expect(page.get_by_role("status")).to_have_text(f"You are signed in as {EDITH}.")


def test_the_sign_in_page_says_why_a_passkey_did_not_sign_in(page: Page) -> None:
    # This browser has no authenticator holding a passkey for the site: Chromium's dialog has
    # nothing to offer and the ceremony fails; the page says so and stays.
    Authenticator(page)  # an empty device: the ceremony ends at once, no dialog waits
    page.goto("/auth/sign-in")
    page.get_by_role("button", name="Sign in with a passkey").click()

    expect(page.get_by_role("alert")).to_contain_text("No passkey signed you in")
    expect(page.get_by_role("button", name="Email me a code")).to_be_visible()


@pytest.mark.parametrize("server", [{"SIGNET_PASSKEYS": "false"}], indirect=True)
def test_with_passkeys_off_nothing_offers_them(page: Page) -> None:
    page.goto("/")
    sign_in_as_anyone(page, EDITH)
    expect(page.locator("#id_sessions li")).to_have_count(1)
    expect(page.locator("#id_passkeys_section")).to_be_hidden()
    sign_out(page)

    page.goto("/auth/sign-in")
    expect(page.get_by_label("Email address")).to_have_attribute("autocomplete", "email")
    expect(page.locator("#passkey")).to_have_count(0)
