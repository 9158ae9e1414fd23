"""Who may come in, by email: a refused address gets a notice instead of a code, after the same
work and within the same limits, and a code sent before the policy narrowed no longer signs in."""

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.config import Settings
from api.mail.outbox import Outbox
from api.store.invitations import create_invitation
from api.store.tables import EmailCode, SessionRow, User
from api.testing import FakeClock
from tests.apps import APP_ORIGIN, serving
from tests.databases import count_rows
from tests.mail import code_of, link_of, text_of, token_of
from tests.test_email_sign_in import email_settings

ANN, ZED = "ann@corp.example", "zed@elsewhere.example"
NOT_ALLOWED = "urn:signet:problem:not-allowed"
WEEK = timedelta(days=7)


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


@pytest.fixture
def serve(settings: Settings, engine: AsyncEngine, clock: FakeClock, outbox: Outbox) -> Any:
    """The app with the email provider and `changes`, on the test's database (a restart)."""

    def start(**changes: Any) -> Any:
        return serving(email_settings(settings, **changes), clock=clock, mailer=outbox)

    return start


@pytest.fixture
async def narrowed(serve: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(allowed_domains="corp.example", rate_limit_email_per_email=2) as client:
        client.headers["Origin"] = APP_ORIGIN
        yield client


async def test_a_refused_address_gets_the_same_answer_and_a_notice_without_a_code(
    narrowed: httpx.AsyncClient, outbox: Outbox, db_session: AsyncSession
) -> None:
    admitted = await narrowed.post("/auth/email/start", json={"email": ANN})
    refused = await narrowed.post("/auth/email/start", json={"email": ZED})

    assert (admitted.status_code, refused.status_code) == (202, 202)
    assert refused.json() == {"email": ZED, "expires_in": admitted.json()["expires_in"]}
    assert refused.headers.keys() - {"x-request-id", "content-length"} == (
        admitted.headers.keys() - {"x-request-id", "content-length"}
    )
    code_message, notice = outbox.messages
    assert code_of(code_message)
    assert notice["To"] == ZED
    assert notice["Subject"] == "You cannot sign in to app.example"
    text = text_of(notice)
    assert "cannot sign in there" in text
    assert "/auth/email/verify" not in text
    assert not any(character.isdigit() for character in text)  # no code
    assert await count_rows(db_session, EmailCode) == 1  # Ann's alone


async def test_a_refused_address_counts_against_the_same_limits(
    narrowed: httpx.AsyncClient, outbox: Outbox
) -> None:
    answers = [
        (await narrowed.post("/auth/email/start", json={"email": ZED})).status_code
        for _ in range(3)
    ]

    assert answers == [202, 202, 429]
    assert len(outbox.messages) == 2


async def test_a_code_sent_before_the_policy_narrowed_signs_nobody_in(
    serve: Any, outbox: Outbox, db_session: AsyncSession
) -> None:
    async with serve() as before:
        before.headers["Origin"] = APP_ORIGIN
        await before.post("/auth/email/start", json={"email": ZED, "return_to": "/after"})
        await before.post("/auth/email/start", json={"email": ZED, "return_to": "/after"})
    first, second = outbox.messages

    async with serve(allowed_emails=ANN) as narrowed:
        narrowed.headers["Origin"] = APP_ORIGIN
        code = await narrowed.post(
            "/auth/email/verify", json={"email": ZED, "code": code_of(first)}
        )
        link = await narrowed.post("/auth/email/link", data={"token": token_of(link_of(second))})

    assert (code.status_code, code.json()["type"]) == (403, NOT_ALLOWED)
    assert link.status_code == 303
    assert link.headers["location"] == "/after?signet_error=not_allowed"
    assert await count_rows(db_session, User) == 0
    assert await count_rows(db_session, SessionRow) == 0


async def test_invite_only_sends_a_code_to_the_invited_and_a_notice_to_the_rest(
    serve: Any, outbox: Outbox, db_session: AsyncSession, clock: FakeClock
) -> None:
    await create_invitation(db=db_session, email=ANN, groups=[], now=clock(), lifetime=WEEK)
    await db_session.commit()

    async with serve(sign_up="invite-only") as client:
        client.headers["Origin"] = APP_ORIGIN
        for email in (ANN, ZED):
            assert (
                await client.post("/auth/email/start", json={"email": email})
            ).status_code == 202
        invited, uninvited = outbox.messages
        signed_in = await client.post(
            "/auth/email/verify", json={"email": ANN, "code": code_of(invited)}
        )

    assert uninvited["Subject"] == "You cannot sign in to app.example"
    assert signed_in.status_code == 200
    assert await count_rows(db_session, EmailCode) == 0  # Ann's used, none kept for Zed
