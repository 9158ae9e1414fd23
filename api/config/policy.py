"""Who may come in: the deployment-wide allow-lists and the sign-up mode (docs/access.md). Each
host must be given the same, or they answer differently: /readyz shows a digest of them."""

from typing import Literal

from pydantic import field_validator

from api.auth.policy import domain_entry, email_entry
from api.config.base import CommaSeparated, SettingsBase


class PolicySettings(SettingsBase):
    # Both empty: everyone. Else only verified emails listed or of a listed domain.
    allowed_domains: CommaSeparated = ()
    allowed_emails: CommaSeparated = ()
    # invite-only: an email with no user yet signs in only with a live invitation.
    sign_up: Literal["open", "invite-only"] = "open"

    @field_validator("allowed_domains")
    @classmethod
    def _domains_are_domains(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(domain_entry(item) for item in value)

    @field_validator("allowed_emails")
    @classmethod
    def _emails_are_emails(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(email_entry(item) for item in value)
