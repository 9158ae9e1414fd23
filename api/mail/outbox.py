"""An outbox that keeps messages instead of sending them: the development mailbox, and tests'."""

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
