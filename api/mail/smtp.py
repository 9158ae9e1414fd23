"""Sending through an SMTP server (aiosmtplib), with TLS required beyond loopback and a
deadline on the whole exchange.

`smtp://user:password@host:port` (port 587 unless given) upgrades with STARTTLS whenever the
server offers it, and requires it unless the host is literally loopback; `smtps://` (port 465
unless given) is TLS from the first byte. Certificates are verified against the TLS context
handed in (the system's trust store, which honours SSL_CERT_FILE).
"""

import asyncio
import ipaddress
import logging
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib
from pydantic import SecretStr

from api.mail.mailer import MailUnavailable

logger = logging.getLogger("signet.mail")

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
# Opens a connected socket to (host, port): a test's way to reach a name it maps to loopback.
# The connection closes the socket; one it never took over stays the opener's to close.
OpenSocket = Callable[[str, int], Awaitable[socket.socket]]


def is_loopback(host: str) -> bool:
    """Whether `host` is literally loopback: localhost, 127.0.0.0/8 or ::1 (no name lookup)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where SIGNET_SMTP_URL says mail goes, and how."""

    host: str
    port: int
    implicit_tls: bool
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str) -> "SmtpServer":
        """The server a `smtp://` or `smtps://` URL names; ValueError saying what is wrong."""
        try:
            parts = urlsplit(url.strip())
            port, host = parts.port, parts.hostname
        except ValueError:
            raise ValueError(
                "must be smtp://user:password@host:port (percent-encode any @ : / ? # in the "
                "user or password; the port is a number from 1 to 65535)"
            ) from None
        if (
            parts.scheme not in DEFAULT_PORTS
            or not host
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
        ):
            raise ValueError(
                "must be smtp://user:password@host:port or smtps://… (percent-encode any "
                "@ : / ? # in the user or password)"
            )
        return cls(
            host=host,
            port=port or DEFAULT_PORTS[parts.scheme],
            implicit_tls=parts.scheme == "smtps",
            username=unquote(parts.username) if parts.username else None,
            password=SecretStr(unquote(parts.password)) if parts.password else None,
        )

    @property
    def requires_tls(self) -> bool:
        return not is_loopback(self.host)


class SmtpMailer:
    """Sends each message over a connection of its own; `MailUnavailable` unless the server
    accepted it for every recipient within `timeout` seconds."""

    def __init__(
        self,
        server: SmtpServer,
        *,
        timeout: float,
        tls_context: ssl.SSLContext,
        open_socket: OpenSocket | None = None,
    ) -> None:
        self._server = server
        self._timeout = timeout
        self._tls_context = tls_context
        self._open_socket = open_socket

    async def send(self, message: EmailMessage) -> None:
        async with self._connected() as client:
            await client.send_message(message)

    async def check(self) -> str:
        """Connect, secure and log in as sending would, then quit without sending; says how it
        went, or `MailUnavailable`."""
        async with self._connected() as client:
            secured = client.get_transport_info("sslcontext") is not None
        server = self._server
        how = "TLS" if secured else "no TLS (loopback)"
        logged_in = ", logged in" if server.username else ""
        return f"SMTP server {server.host}:{server.port} answers, {how}{logged_in}"

    @asynccontextmanager
    async def _connected(self) -> AsyncIterator[aiosmtplib.SMTP]:
        """A client connected, secured and logged in, quit on exit, all within the deadline;
        every failure is `MailUnavailable`."""
        server = self._server
        sock = None
        try:
            async with asyncio.timeout(self._timeout):
                if self._open_socket is not None:
                    sock = await self._open_socket(server.host, server.port)
                client = aiosmtplib.SMTP(
                    hostname=server.host,
                    # aiosmtplib takes a connected socket or a port, not both.
                    port=None if sock else server.port,
                    sock=sock,
                    username=server.username,
                    password=server.password.get_secret_value() if server.password else None,
                    use_tls=server.implicit_tls,
                    start_tls=_starttls(server),
                    tls_context=self._tls_context,
                    timeout=self._timeout,
                )
                async with client:
                    yield client
        except TimeoutError:
            raise self._unavailable("no answer within SIGNET_SMTP_TIMEOUT") from None
        except aiosmtplib.SMTPRecipientsRefused as refused:
            codes = sorted({error.code for error in refused.recipients})
            raise self._unavailable(f"recipient refused ({codes})") from None
        except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as error:
            raise self._unavailable(_first_line(error)) from None

    def _unavailable(self, reason: str) -> MailUnavailable:
        # The server and why, never the message or its recipient.
        server = self._server
        logger.error("mail not sent through %s:%d: %s", server.host, server.port, reason)
        return MailUnavailable(reason)


def _starttls(server: SmtpServer) -> bool | None:
    """False: TLS from the start; True: refuse a server that does not offer STARTTLS; None:
    use it when offered (loopback)."""
    if server.implicit_tls:
        return False
    return True if server.requires_tls else None


def _first_line(error: Exception) -> str:
    if isinstance(error, aiosmtplib.SMTPResponseException):
        # The server's words may quote the recipient: its code says enough.
        return f"{type(error).__name__} {error.code}"
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}"[:200]
