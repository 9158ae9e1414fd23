"""An outbox that keeps messages instead of sending them: the development mailbox, and tests'."""

import sys
from collections import deque
from collections.abc import Callable
from email.message import EmailMessage

from api.mail.mailer import MailUnavailable

KEPT_MESSAGES = 50


class Outbox:
    """Keeps the newest messages, newest last; `on_send` is told of each (development prints
    them). Set `unavailable` to make sending fail."""

    def __init__(self, *, on_send: Callable[[EmailMessage], None] | None = None) -> None:
        self.messages: deque[EmailMessage] = deque(maxlen=KEPT_MESSAGES)
        self.unavailable = False
        self._on_send = on_send

    async def send(self, message: EmailMessage) -> None:
        if self.unavailable:
            raise MailUnavailable("outbox set to unavailable")
        self.messages.append(message)
        if self._on_send is not None:
            self._on_send(message)


def text_of(message: EmailMessage) -> str:
    """The message's plain-text part."""
    body = message.get_body(preferencelist=("plain",))
    return body.get_content() if body is not None else ""


def _print(message: EmailMessage) -> None:
    print(
        f"\n--- mail to {message['To']}: {message['Subject']}\n{text_of(message)}---\n",
        file=sys.stderr,
        flush=True,
    )


def development_outbox() -> Outbox:
    """Development's mailer without SIGNET_SMTP_URL: messages kept for the mailbox page
    (/dev-idp/mailbox) and printed to the console, never sent. The one place a code is ever
    printed; the settings allow it in development only."""
    return Outbox(on_send=_print)
