"""A CDP virtual authenticator: a platform passkey device (CTAP2, resident keys, user verified)
inside Chromium, so a ceremony runs without a person touching anything."""

from typing import Any

from playwright.sync_api import CDPSession, Page

AUTHENTICATOR_OPTIONS = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
}


class Authenticator:
    """The virtual authenticator of one page (a CDP session is per page)."""

    def __init__(self, page: Page) -> None:
        self.cdp: CDPSession = page.context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable")
        options = {"options": AUTHENTICATOR_OPTIONS}
        added = self.cdp.send("WebAuthn.addVirtualAuthenticator", options)
        self.id: str = added["authenticatorId"]

    def credentials(self) -> list[dict[str, Any]]:
        """The passkeys the device holds."""
        answer = self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.id})
        credentials: list[dict[str, Any]] = answer["credentials"]
        return credentials
