"""The email provider's mail: the server it goes through, the sender, the site's name in it,
and how long its codes work."""

from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import Field, SecretStr, field_validator

from api.config.base import SettingsBase
from api.mail.smtp import SmtpServer


class MailSettings(SettingsBase):
    # The email provider: the server mail goes through (smtp://user:password@host:port, or
    # smtps://), the sender's address, the name the messages give the site, and deadlines.
    smtp_url: SecretStr | None = None
    email_from: str | None = None
    site_name: str | None = None
    smtp_timeout: Annotated[float, Field(gt=0, le=120)] = 10.0
    # How long an emailed code and link work, in seconds.
    email_code_ttl: Annotated[int, Field(ge=60, le=24 * 60 * 60)] = 10 * 60

    @property
    def smtp_server(self) -> SmtpServer | None:
        """Where mail goes; None in development without SIGNET_SMTP_URL (the mailbox page)."""
        return SmtpServer.parse(self.smtp_url.get_secret_value()) if self.smtp_url else None

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url_is_a_server(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            SmtpServer.parse(value.get_secret_value())
        return value

    @field_validator("smtp_url", "email_from", "site_name", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("email_from")
    @classmethod
    def _email_from_is_an_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        message = "must be a bare address like no-reply@example.com, its local part ASCII"
        try:
            validated = validate_email(value.strip(), check_deliverability=False)
        except EmailNotValidError:
            raise ValueError(message) from None
        # As it goes on the wire: every server takes an ASCII sender (the domain in IDNA).
        if validated.ascii_email is None:
            raise ValueError(message)
        return validated.ascii_email

    @field_validator("site_name")
    @classmethod
    def _site_name_is_one_line(cls, value: str | None) -> str | None:
        if value is not None and not (0 < len(value.strip()) <= 64 and value.isprintable()):
            raise ValueError("must be one printable line of at most 64 characters")
        return value.strip() if value else None
