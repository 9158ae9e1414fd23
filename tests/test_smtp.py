"""The email provider against a real SMTP server (aiosmtpd, in-process): plain on loopback,
STARTTLS, implicit TLS, TLS required beyond loopback, AUTH, and the faults that make a start a
503 with nothing kept. Each test reads the message the server accepted, as its recipient would.

(tests/test_email_sign_in.py covers codes and links with an outbox instead of a server.)"""

import asyncio
import logging
import re
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import trustme
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.config import Settings
from api.mail.smtp import SmtpMailer, SmtpServer
from api.store.tables import EmailCode
from api.testing import FakeClock
from tests.apps import APP_ORIGIN, serving
from tests.databases import count_rows
from tests.mail import code_of, link_of, text_of, token_of
from tests.servers import free_port
from tests.smtp_server import SmtpSink

EDITH = "edith@example.com"
MAIL_UNAVAILABLE = "urn:signet:problem:mail-unavailable"
# Not literally loopback, so TLS is required; the tests' open_socket takes it to 127.0.0.1.
MAIL_HOST = "mail.test"


def smtp_settings(settings: Settings, smtp_url: str, **changes: Any) -> Settings:
    base = settings.model_dump(exclude_unset=True, exclude={"verifier_url", "provider_variables"})
    return Settings(
        **{
            **base,
            "providers": "email",
            "public_url": APP_ORIGIN,
            "smtp_url": smtp_url,
            "email_from": "no-reply@app.example",
            "smtp_timeout": 2.0,
            **changes,
        }
    )


async def start(client: httpx.AsyncClient, email: str = EDITH) -> httpx.Response:
    return await client.post("/auth/email/start", json={"email": email})


async def verify(client: httpx.AsyncClient, code: str, email: str = EDITH) -> httpx.Response:
    return await client.post("/auth/email/verify", json={"email": email, "code": code})


def assert_mail_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == MAIL_UNAVAILABLE
    assert response.headers["retry-after"].isdigit()


def capture_everything(caplog: pytest.LogCaptureFixture) -> None:
    """Capture every log at DEBUG, Signet's own too (called once the app has configured its
    logger), but the test's side: the SMTP server logs what it receives, httpx the URLs."""
    caplog.set_level(logging.WARNING, logger="mail.log")
    caplog.set_level(logging.WARNING, logger="httpx")
    caplog.set_level(logging.DEBUG, logger="signet")
    caplog.set_level(logging.DEBUG)  # last: it sets the capturing handler's level too


_PLAIN_RECORD = frozenset(vars(logging.makeLogRecord({})))


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    """The captured lines and whatever extra fields their records carry (the JSON log's)."""
    extras = (
        f"{name}={value!r}"
        for record in caplog.records
        for name, value in vars(record).items()
        if name not in _PLAIN_RECORD
    )
    return "\n".join([caplog.text, *extras])


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def trusted_ca(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CA in the trust store the app builds its TLS context from (SSL_CERT_FILE)."""
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    monkeypatch.setenv("SSL_CERT_FILE", str(pem))
    return pem


@pytest.fixture
def system_trust_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The system's trust store, which has never heard of the tests' CA."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


@dataclass
class LoopbackNames:
    """An open_socket hook: every name resolves to 127.0.0.1; `asked` says which were."""

    asked: list[tuple[str, int]] = field(default_factory=list)
    opened: list[socket.socket] = field(default_factory=list)

    async def __call__(self, host: str, port: int) -> socket.socket:
        self.asked.append((host, port))
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.opened.append(sock)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        return sock

    def close(self) -> None:
        # Whatever the mailer did not close (closing twice is harmless).
        for sock in self.opened:
            sock.close()


@pytest.fixture
def loopback_names() -> Iterator[LoopbackNames]:
    names = LoopbackNames()
    yield names
    names.close()


def mailer_for(url: str, open_socket: LoopbackNames, timeout: float = 2.0) -> SmtpMailer:
    """The mailer the app would build for `url`, reaching its host through `open_socket`."""
    return SmtpMailer(
        SmtpServer.parse(url),
        timeout=timeout,
        tls_context=ssl.create_default_context(),
        open_socket=open_socket,
    )


@dataclass
class SilentServer:
    port: int
    connections: int = 0


@pytest.fixture
async def silent_smtp() -> AsyncIterator[SilentServer]:
    """A server on loopback that accepts connections and never sends the SMTP greeting."""
    held: set[asyncio.Task[None]] = set()

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        held.add(task)
        silent.connections += 1
        try:
            await reader.read()  # until the client gives up and hangs up
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    silent = SilentServer(port=server.sockets[0].getsockname()[1])
    try:
        yield silent
    finally:
        for task in held:
            task.cancel()
        await asyncio.gather(*held, return_exceptions=True)
        server.close()
        await server.wait_closed()


async def codes_kept(engine: AsyncEngine) -> int:
    async with AsyncSession(engine) as db:
        return await count_rows(db, EmailCode)


def only_message(sink: SmtpSink) -> EmailMessage:
    (message,) = sink.messages
    return message


async def test_on_loopback_without_starttls_the_message_is_delivered_and_its_code_signs_in(
    settings: Settings, engine: AsyncEngine, clock: FakeClock
) -> None:
    with SmtpSink() as sink:
        smtp = smtp_settings(settings, f"smtp://127.0.0.1:{sink.port}")
        async with serving(smtp, clock=clock) as client:
            started = await start(client)
            message = only_message(sink)
            signed_in = await verify(client, code_of(message))
            me = await client.get("/auth/me")

    text = text_of(message)
    html = message.get_body(preferencelist=("html",))
    assert started.status_code == 202
    assert started.json() == {"email": EDITH, "expires_in": 600}
    assert sink.recipients == [[EDITH]]
    assert sink.over_tls == [False]
    assert message["To"] == EDITH
    assert message["From"].addresses[0].addr_spec == "no-reply@app.example"
    assert message["From"].addresses[0].display_name == "app.example"
    assert message["Subject"] == "Sign in to app.example"
    assert message.get_content_type() == "multipart/alternative"
    assert html is not None
    assert "app.example" in text
    assert f"\n{code_of(message)}\n" in text
    assert link_of(message).startswith(f"{APP_ORIGIN}/auth/email/verify?token=")
    assert "10 minutes" in text
    assert "If this wasn't you" in text
    assert code_of(message) in html.get_content()
    assert token_of(link_of(message)) in html.get_content()
    assert signed_in.status_code == 200
    assert signed_in.json()["email"] == EDITH
    assert "set-cookie" in signed_in.headers
    assert me.status_code == 200
    assert me.json()["email"] == EDITH


async def test_localhost_is_loopback_too_so_a_server_without_starttls_will_do(
    settings: Settings, engine: AsyncEngine
) -> None:
    with SmtpSink() as sink:
        async with serving(smtp_settings(settings, f"smtp://localhost:{sink.port}")) as client:
            started = await start(client)

    assert started.status_code == 202
    assert sink.recipients == [[EDITH]]
    assert sink.over_tls == [False]


async def test_starttls_with_a_certificate_the_trust_store_vouches_for(
    settings: Settings, engine: AsyncEngine, ca: trustme.CA, trusted_ca: Path
) -> None:
    with SmtpSink(ca=ca, starttls=True) as sink:
        # No mailer handed in: the app builds its own, trusting what SSL_CERT_FILE says.
        async with serving(smtp_settings(settings, f"smtp://127.0.0.1:{sink.port}")) as client:
            started = await start(client)
            signed_in = await verify(client, code_of(only_message(sink)))

    assert started.status_code == 202
    assert sink.recipients == [[EDITH]]
    assert sink.over_tls == [True]
    assert signed_in.status_code == 200


@pytest.mark.parametrize("scheme", ["smtp", "smtps"])
async def test_a_certificate_that_does_not_verify_is_a_503_and_nothing_is_sent_or_kept(
    settings: Settings,
    engine: AsyncEngine,
    ca: trustme.CA,
    system_trust_only: None,
    scheme: str,
) -> None:
    with SmtpSink(ca=ca, starttls=scheme == "smtp", implicit_tls=scheme == "smtps") as sink:
        async with serving(smtp_settings(settings, f"{scheme}://127.0.0.1:{sink.port}")) as client:
            response = await start(client)

    assert_mail_unavailable(response)
    assert sink.messages == []
    assert await codes_kept(engine) == 0


async def test_smtps_speaks_tls_from_the_first_byte(
    settings: Settings, engine: AsyncEngine, ca: trustme.CA, trusted_ca: Path
) -> None:
    with SmtpSink(ca=ca, implicit_tls=True) as sink:
        async with serving(smtp_settings(settings, f"smtps://127.0.0.1:{sink.port}")) as client:
            started = await start(client)
            signed_in = await verify(client, code_of(only_message(sink)))

    assert started.status_code == 202
    assert sink.recipients == [[EDITH]]
    assert sink.over_tls == [True]
    assert signed_in.status_code == 200


async def test_beyond_loopback_a_server_without_starttls_is_a_503_and_nothing_is_sent(
    settings: Settings,
    engine: AsyncEngine,
    trusted_ca: Path,
    loopback_names: LoopbackNames,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with SmtpSink() as sink:
        url = f"smtp://{MAIL_HOST}:{sink.port}"
        async with serving(
            smtp_settings(settings, url), mailer=mailer_for(url, loopback_names)
        ) as client:
            response = await start(client)

    assert loopback_names.asked == [(MAIL_HOST, sink.port)]
    assert_mail_unavailable(response)
    assert sink.messages == []
    assert await codes_kept(engine) == 0
    # Refused for the want of STARTTLS, not for want of a connection.
    (reason,) = [r.getMessage() for r in caplog.records if r.name == "signet.mail"]
    assert "STARTTLS" in reason


async def test_beyond_loopback_a_certificate_for_another_name_is_a_503(
    settings: Settings,
    engine: AsyncEngine,
    ca: trustme.CA,
    trusted_ca: Path,
    loopback_names: LoopbackNames,
) -> None:
    with SmtpSink(ca=ca, starttls=True) as sink:
        url = f"smtp://other.test:{sink.port}"  # the certificate names mail.test, not this
        async with serving(
            smtp_settings(settings, url), mailer=mailer_for(url, loopback_names)
        ) as client:
            response = await start(client)

    assert loopback_names.asked == [("other.test", sink.port)]
    assert_mail_unavailable(response)
    assert sink.messages == []
    assert await codes_kept(engine) == 0


async def test_beyond_loopback_starttls_with_a_certificate_for_the_name_delivers(
    settings: Settings,
    engine: AsyncEngine,
    ca: trustme.CA,
    trusted_ca: Path,
    loopback_names: LoopbackNames,
) -> None:
    with SmtpSink(ca=ca, starttls=True) as sink:
        url = f"smtp://{MAIL_HOST}:{sink.port}"
        async with serving(
            smtp_settings(settings, url), mailer=mailer_for(url, loopback_names)
        ) as client:
            started = await start(client)
            signed_in = await verify(client, code_of(only_message(sink)))

    assert loopback_names.asked == [(MAIL_HOST, sink.port)]
    assert started.status_code == 202
    assert sink.recipients == [[EDITH]]
    assert sink.over_tls == [True]
    assert signed_in.status_code == 200


async def test_a_mail_server_that_is_down_is_a_quick_503(
    settings: Settings, engine: AsyncEngine
) -> None:
    smtp = smtp_settings(settings, f"smtp://127.0.0.1:{free_port()}", smtp_timeout=30)
    async with serving(smtp) as client, asyncio.timeout(10):  # refused, not waited out
        response = await start(client)

    assert_mail_unavailable(response)
    assert await codes_kept(engine) == 0


async def test_a_mail_server_that_never_greets_is_a_503_at_the_deadline(
    settings: Settings, engine: AsyncEngine, silent_smtp: SilentServer
) -> None:
    deadline = 0.5
    smtp = smtp_settings(settings, f"smtp://127.0.0.1:{silent_smtp.port}", smtp_timeout=deadline)
    # The guard fails the test rather than hang it if the deadline is not kept.
    async with serving(smtp) as client, asyncio.timeout(deadline + 10):
        response = await start(client)

    assert silent_smtp.connections == 1
    assert_mail_unavailable(response)
    assert await codes_kept(engine) == 0


async def test_a_refused_recipient_is_a_503_and_nothing_is_kept(
    settings: Settings, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    with SmtpSink(refused={EDITH}) as sink:
        async with serving(smtp_settings(settings, f"smtp://127.0.0.1:{sink.port}")) as client:
            capture_everything(caplog)
            refused = await start(client)
            other = await start(client, "zoe@example.com")

    assert_mail_unavailable(refused)
    assert other.status_code == 202
    assert sink.recipients == [["zoe@example.com"]]
    assert await codes_kept(engine) == 1
    # Why, for the operator, without naming the recipient.
    signet_lines = [r.getMessage() for r in caplog.records if r.name.startswith("signet")]
    assert any("recipient refused" in line for line in signet_lines)
    assert not any(EDITH in line for line in signet_lines)


PASSWORD = "p@ss/w:rd%"


@pytest.mark.parametrize(
    ("credentials", "delivered"),
    [(f"signet:{quote(PASSWORD, safe='')}@", True), ("signet:wrong@", False), ("", False)],
    ids=["right-password", "wrong-password", "no-login"],
)
async def test_a_server_that_requires_auth_takes_mail_only_with_the_right_password(
    settings: Settings,
    engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
    credentials: str,
    delivered: bool,
) -> None:
    with SmtpSink(users={"signet": PASSWORD}) as sink:
        smtp = smtp_settings(settings, f"smtp://{credentials}127.0.0.1:{sink.port}")
        async with serving(smtp) as client:
            capture_everything(caplog)
            response = await start(client)

    if delivered:
        assert response.status_code == 202
        assert sink.logins == ["signet"]
        assert sink.recipients == [[EDITH]]
    else:
        assert_mail_unavailable(response)
        assert sink.messages == []
        assert await codes_kept(engine) == 0
    logged = everything_logged(caplog)
    assert PASSWORD not in logged
    assert quote(PASSWORD, safe="") not in logged


async def test_neither_the_code_nor_the_link_is_ever_logged(
    settings: Settings, engine: AsyncEngine, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with SmtpSink() as sink:
        smtp = smtp_settings(settings, f"smtp://127.0.0.1:{sink.port}")
        # The fake clock keeps timestamps in the log from being random digits a code could match.
        async with serving(smtp, clock=clock) as client:
            capture_everything(caplog)
            assert (await start(client)).status_code == 202
            assert (await start(client)).status_code == 202
            by_code, by_link = sink.messages
            assert (await verify(client, code_of(by_code))).status_code == 200
            token = token_of(link_of(by_link))
            page = await client.get("/auth/email/verify", params={"token": token})
            link = await client.post(
                "/auth/email/link", data={"token": token}, headers={"Origin": APP_ORIGIN}
            )

    assert page.status_code == 200
    assert link.status_code == 303
    logged = everything_logged(caplog)
    assert "POST /auth/email/start 202" in logged  # the capture works
    for code in (code_of(by_code), code_of(by_link)):
        # Not inside a longer run of hex digits (an address, a digest, a request id).
        assert not re.search(rf"(?<![0-9a-fA-F]){code}(?![0-9a-fA-F])", logged)
    for link_token in (token_of(link_of(by_code)), token):
        assert link_token not in logged
