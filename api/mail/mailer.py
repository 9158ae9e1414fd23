"""The contract every way of sending mail keeps, and how sending fails."""

from email.message import EmailMessage
from typing import Protocol


class MailUnavailable(Exception):
    """The message was not accepted for delivery; `reason` is for logs, never for clients."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Mailer(Protocol):
    """Hands a message over for delivery, or raises `MailUnavailable`."""

    async def send(self, message: EmailMessage) -> None: ...
