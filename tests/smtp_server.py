"""A real SMTP server for the tests: aiosmtpd on a free loopback port, in a thread of its own,
keeping every message it accepts (plain, STARTTLS or implicit TLS, with throwaway certificates
from trustme; with or without AUTH)."""

import ssl
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.servers import free_port

# Names the throwaway server certificate is good for.
CERTIFICATE_NAMES = ("127.0.0.1", "localhost", "mail.test")


class _Keeper:
    def __init__(self, refused: set[str], users: dict[str, str] | None) -> None:
        self.refused = refused
        self.users = users
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.over_tls: list[bool] = []
        self.logins: list[str] = []

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        users = self.users or {}
        if isinstance(data, LoginPassword):
            login, password = data.login.decode(), data.password.decode()
            if login in users and users[login] == password:
                self.logins.append(login)
                return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)

    async def handle_MAIL(  # noqa: N802 (aiosmtpd's hook names)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.users is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook names)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refused:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        # Stored with the local line ending, as a mailbox keeps it: the email package leaves a
        # part's CRLFs in its decoded text otherwise.
        content = (envelope.original_content or b"").replace(b"\r\n", b"\n")
        self.messages.append(message_from_bytes(content, policy=default))
        self.recipients.append(list(envelope.rcpt_tos))
        # After STARTTLS the transport is the TLS one too.
        transport = server.transport
        self.over_tls.append(
            transport is not None and transport.get_extra_info("ssl_object") is not None
        )
        return "250 Message accepted for delivery"


class SmtpSink:
    """An SMTP server on 127.0.0.1:`port` while open; `messages` holds what it accepted, in
    order. `starttls` offers STARTTLS with a certificate from `ca`; `implicit_tls` speaks TLS
    from the first byte; `refused` recipients get a 550; with `users` (login: password) it
    offers AUTH, without requiring TLS for it, and takes mail only from a client logged in."""

    def __init__(
        self,
        *,
        ca: trustme.CA | None = None,
        starttls: bool = False,
        implicit_tls: bool = False,
        refused: set[str] | None = None,
        users: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self._keeper = _Keeper(refused or set(), users)
        server_context = None
        if starttls or implicit_tls:
            assert ca is not None, "TLS needs a CA to issue the server's certificate"
            server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ca.issue_cert(*CERTIFICATE_NAMES).configure_cert(server_context)
        options: dict[str, Any] = {"enable_SMTPUTF8": True}
        if starttls:
            options["tls_context"] = server_context
        if users is not None:
            options.update(authenticator=self._keeper.authenticate, auth_require_tls=False)
        self._controller = Controller(
            self._keeper,
            hostname="127.0.0.1",
            port=self.port,
            ssl_context=server_context if implicit_tls else None,
            server_hostname="127.0.0.1",
            **options,
        )

    @property
    def messages(self) -> list[EmailMessage]:
        return self._keeper.messages

    @property
    def recipients(self) -> list[list[str]]:
        """Each accepted message's envelope recipients."""
        return self._keeper.recipients

    @property
    def over_tls(self) -> list[bool]:
        """Whether each accepted message came over TLS (STARTTLS or implicit)."""
        return self._keeper.over_tls

    @property
    def logins(self) -> list[str]:
        """Who logged in with AUTH, in order."""
        return self._keeper.logins

    def __enter__(self) -> "SmtpSink":
        self._controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._controller.stop()
