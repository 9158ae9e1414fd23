"""Signing in with an email address alone: a code and a link in one message, each used once.

The messages go to an outbox here (tests/test_smtp.py sends them to a real SMTP server)."""

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.auth.email_codes import ATTEMPTS_PER_CODE
from api.config import Settings
from api.mail.outbox import Outbox
from api.store.db import create_db_sessions
from api.store.email_codes import claim_attempt, insert_code
from api.store.tables import EmailCode, IdentityRow, User
from api.testing import FakeClock
from tests.apps import APP_ORIGIN, serving, two_workers
from tests.databases import count_rows
from tests.mail import code_of, link_of, text_of, token_of

EDITH = "edith@example.com"


def email_settings(settings: Settings, **changes: Any) -> Settings:
    return Settings(
        **{
            **settings.model_dump(
                exclude_unset=True, exclude={"verifier_url", "provider_variables"}
            ),
            "providers": "email",
            "public_url": APP_ORIGIN,
            "smtp_url": "smtp://127.0.0.1:2525",
            "email_from": "no-reply@app.example",
            **changes,
        }
    )


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


@pytest.fixture
async def client(
    request: pytest.FixtureRequest,
    settings: Settings,
    engine: AsyncEngine,
    clock: FakeClock,
    outbox: Outbox,
) -> AsyncIterator[httpx.AsyncClient]:
    marker = request.node.get_closest_marker("settings")
    changes = marker.kwargs if marker is not None else {}
    async with serving(email_settings(settings, **changes), clock=clock, mailer=outbox) as client:
        # As a browser on the app's page says where a post comes from (Signet's forms need it).
        client.headers["Origin"] = APP_ORIGIN
        yield client


async def start(client: httpx.AsyncClient, email: str = EDITH, **body: str) -> httpx.Response:
    return await client.post("/auth/email/start", json={"email": email, **body})


async def verify(client: httpx.AsyncClient, code: str, email: str = EDITH) -> httpx.Response:
    return await client.post("/auth/email/verify", json={"email": email, "code": code})


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_a_code_from_the_message_signs_in_as_login_does(
    client: httpx.AsyncClient, outbox: Outbox
) -> None:
    started = await start(client, "Edith@Example.COM")
    (message,) = outbox.messages
    signed_in = await verify(client, code_of(message))
    me = await client.get("/auth/me")

    assert started.status_code == 202
    assert started.json() == {"email": EDITH, "expires_in": 600}
    assert signed_in.status_code == 200
    assert signed_in.json()["email"] == EDITH
    assert signed_in.json()["email_verified"] is True
    assert "HttpOnly" in signed_in.headers["set-cookie"]
    assert me.json()["email"] == EDITH


async def test_the_message_names_the_site_and_carries_code_link_and_expiry(
    client: httpx.AsyncClient, outbox: Outbox
) -> None:
    await start(client)
    (message,) = outbox.messages
    text = text_of(message)
    html = message.get_body(preferencelist=("html",))

    assert message["Subject"] == "Sign in to app.example"
    assert message["To"] == EDITH
    assert message["From"].addresses[0].addr_spec == "no-reply@app.example"
    assert link_of(message).startswith(f"{APP_ORIGIN}/auth/email/verify?token=")
    assert "within 10 minutes" in text
    assert "If this wasn't you, ignore this message" in text
    assert html is not None
    assert code_of(message) in html.get_content()
    assert token_of(link_of(message)) in html.get_content()


async def test_a_code_and_a_link_are_used_once_and_one_spends_the_other(
    client: httpx.AsyncClient, outbox: Outbox
) -> None:
    await start(client)
    (message,) = outbox.messages

    first = await verify(client, code_of(message))
    again = await verify(client, code_of(message))
    link = await client.post("/auth/email/link", data={"token": token_of(link_of(message))})

    assert first.status_code == 200
    assert again.status_code == 401
    assert again.headers["content-type"] == "application/problem+json"
    assert link.status_code == 401


async def test_a_token_request_gets_a_bearer_token(
    client: httpx.AsyncClient, outbox: Outbox
) -> None:
    await start(client)
    (message,) = outbox.messages

    answer = await client.post("/auth/email/token", json={"email": EDITH, "code": code_of(message)})
    client.cookies.clear()
    me = await client.get(
        "/auth/me", headers={"Authorization": f"Bearer {answer.json()['access_token']}"}
    )

    assert answer.status_code == 200
    assert "set-cookie" not in answer.headers
    assert me.json()["email"] == EDITH


async def test_known_and_unknown_emails_get_the_same_answer(
    client: httpx.AsyncClient, outbox: Outbox
) -> None:
    await start(client)
    await verify(client, code_of(outbox.messages[-1]))  # Edith is a user now

    known = await start(client, EDITH)
    unknown = await start(client, "nobody@example.com")

    assert (known.status_code, unknown.status_code) == (202, 202)
    assert known.json() == {**unknown.json(), "email": EDITH}
    assert known.headers.keys() - {"x-request-id"} == unknown.headers.keys() - {"x-request-id"}


async def test_a_new_start_keeps_the_codes_already_sent_but_only_the_three_newest(
    client: httpx.AsyncClient, outbox: Outbox, clock: FakeClock
) -> None:
    for _ in range(4):
        await start(client)
        clock.advance(1)
    first, second, *_, newest = outbox.messages

    oldest = await verify(client, code_of(first))
    kept = await verify(client, code_of(second))
    client.cookies.clear()
    also_kept = await verify(client, code_of(newest))

    assert oldest.status_code == 401  # the fourth start pushed it out
    assert (kept.status_code, also_kept.status_code) == (200, 200)


async def test_five_wrong_codes_burn_every_live_code_of_the_email_but_not_the_links(
    client: httpx.AsyncClient, outbox: Outbox
) -> None:
    await start(client)
    await start(client)
    one, two = outbox.messages
    wrong_code = next(
        candidate
        for candidate in (wrong(code_of(one)), wrong(wrong(code_of(one))))
        if candidate != code_of(two)
    )

    guesses = [await verify(client, wrong_code) for _ in range(5)]
    burned = [await verify(client, code_of(one)), await verify(client, code_of(two))]
    link = await client.post("/auth/email/link", data={"token": token_of(link_of(two))})

    titles = {answer.json()["title"] for answer in [*guesses, *burned]}
    assert [answer.status_code for answer in [*guesses, *burned]] == [401] * 7
    assert titles == {"Code rejected"}  # wrong and burned look alike
    assert link.status_code == 303


async def test_four_wrong_codes_burn_nothing_and_other_emails_are_not_touched(
    client: httpx.AsyncClient, outbox: Outbox
) -> None:
    await start(client)
    await start(client, "francis@example.com")
    edith, francis = outbox.messages

    for _ in range(5):
        await verify(client, wrong(code_of(francis)), "francis@example.com")
    for _ in range(4):
        await verify(client, wrong(code_of(edith)))

    assert (await verify(client, code_of(edith))).status_code == 200


async def test_a_code_burned_stays_burned_for_codes_sent_after_some_wrong_ones(
    client: httpx.AsyncClient, outbox: Outbox
) -> None:
    await start(client)
    for _ in range(3):
        await verify(client, wrong(code_of(outbox.messages[0])))
    await start(client)  # sent after three wrong codes: it counts them too
    newer = outbox.messages[1]
    for _ in range(2):
        await verify(client, wrong(wrong(code_of(newer))))

    assert (await verify(client, code_of(newer))).status_code == 401


async def test_codes_and_links_expire_after_the_ttl(
    client: httpx.AsyncClient, outbox: Outbox, clock: FakeClock
) -> None:
    await start(client)
    await start(client)
    one, two = outbox.messages
    clock.advance(599)
    in_time = await verify(client, code_of(one))
    clock.advance(1)

    late_code = await verify(client, code_of(two))
    late_link = await client.get("/auth/email/verify", params={"token": token_of(link_of(two))})

    assert in_time.status_code == 200
    assert late_code.status_code == 401
    assert late_link.status_code == 401


@pytest.mark.settings(email_code_ttl=120)
async def test_the_ttl_is_a_setting(client: httpx.AsyncClient, outbox: Outbox) -> None:
    started = await start(client)

    assert started.json()["expires_in"] == 120
    assert "within 2 minutes" in text_of(outbox.messages[0])


async def test_opening_the_link_names_the_email_and_uses_nothing_up(
    client: httpx.AsyncClient, outbox: Outbox
) -> None:
    await start(client, return_to="/welcome")
    token = token_of(link_of(outbox.messages[0]))

    # A mail scanner opens every link, twice for good measure.
    pages = [await client.get("/auth/email/verify", params={"token": token}) for _ in range(2)]
    me = await client.get("/auth/me")
    signed_in = await client.post("/auth/email/link", data={"token": token})

    page = pages[-1]
    assert [each.status_code for each in pages] == [200, 200]
    assert "edith@example.com" in page.text
    assert re.search(r'<form method="post" action="/auth/email/link">', page.text)
    assert "set-cookie" not in page.headers
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert me.status_code == 401
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/welcome"
    assert "HttpOnly" in signed_in.headers["set-cookie"]
    assert (await client.get("/auth/me")).json()["email"] == EDITH


async def test_the_link_button_is_refused_from_another_site_and_stays_usable(
    client: httpx.AsyncClient, outbox: Outbox
) -> None:
    await start(client)
    token = token_of(link_of(outbox.messages[0]))

    forged = await client.post(
        "/auth/email/link", data={"token": token}, headers={"Origin": "https://evil.example"}
    )
    nulled = await client.post(
        "/auth/email/link", data={"token": token}, headers={"Origin": "null"}
    )
    del client.headers["Origin"]
    unsaid = await client.post("/auth/email/link", data={"token": token})
    same_origin = await client.post(
        "/auth/email/link", data={"token": token}, headers={"Sec-Fetch-Site": "same-origin"}
    )

    assert [forged.status_code, nulled.status_code, unsaid.status_code] == [403, 403, 403]
    assert same_origin.status_code == 303


@pytest.mark.parametrize(
    "token", ["", "nonsense", "A" * 16 + "." + "B" * 43, "x" * 200, "<script>.x"]
)
async def test_a_bad_link_is_a_401_page_for_browsers_and_a_problem_otherwise(
    client: httpx.AsyncClient, token: str
) -> None:
    as_api = await client.get("/auth/email/verify", params={"token": token})
    as_page = await client.get(
        "/auth/email/verify", params={"token": token}, headers={"Accept": "text/html"}
    )
    posted = await client.post(
        "/auth/email/link", data={"token": token}, headers={"Accept": "text/html"}
    )

    assert as_api.status_code in (401, 422)
    assert as_api.headers["content-type"] == "application/problem+json"
    if as_api.status_code == 401:
        assert as_page.status_code == 401
        assert as_page.headers["content-type"].startswith("text/html")
        assert "<script>" not in as_page.text
    assert posted.status_code == 401
    assert posted.headers["content-type"].startswith("text/html")


async def test_return_to_passes_the_allow_list_and_nothing_is_sent_otherwise(
    client: httpx.AsyncClient, outbox: Outbox, db_session: AsyncSession
) -> None:
    refused = await start(client, return_to="https://evil.example/")
    scheme_relative = await start(client, return_to="//evil.example/")

    assert refused.status_code == scheme_relative.status_code == 400
    assert refused.json()["type"] == "urn:signet:problem:invalid-return-to"
    assert list(outbox.messages) == []
    assert await count_rows(db_session, EmailCode) == 0


async def test_a_message_the_server_does_not_take_is_a_503_and_nothing_is_kept(
    client: httpx.AsyncClient, outbox: Outbox, db_session: AsyncSession
) -> None:
    outbox.unavailable = True

    answer = await start(client)

    assert answer.status_code == 503
    assert answer.json()["type"] == "urn:signet:problem:mail-unavailable"
    assert "retry-after" in answer.headers
    assert await count_rows(db_session, EmailCode) == 0


async def test_codes_and_links_are_kept_only_as_keyed_hashes(
    client: httpx.AsyncClient, outbox: Outbox, db_session: AsyncSession
) -> None:
    await start(client)
    message = outbox.messages[0]
    code, secret = code_of(message), token_of(link_of(message)).partition(".")[2]

    (row,) = (await db_session.scalars(EmailCode.__table__.select())).all()  # type: ignore[attr-defined]
    stored = " ".join(str(value) for value in row)

    assert code not in stored
    assert secret not in stored


async def test_neither_codes_nor_link_tokens_are_logged(
    client: httpx.AsyncClient, outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="signet"):
        await start(client)
        message = outbox.messages[0]
        token = token_of(link_of(message))
        await verify(client, wrong(code_of(message)))
        await client.get("/auth/email/verify", params={"token": token})
        await client.post("/auth/email/link", data={"token": token})

    signet = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("signet"))
    assert "login CodeRejected" in signet
    assert code_of(message) not in signet
    assert token.partition(".")[2] not in signet


async def test_the_email_provider_is_listed_and_takes_no_assertions(
    client: httpx.AsyncClient,
) -> None:
    listed = (await client.get("/auth/providers")).json()
    login = await client.post("/auth/login", json={"assertion": "x", "provider": "email"})
    login_unnamed = await client.post("/auth/login", json={"assertion": "x"})

    assert listed == [
        {"name": "email", "kind": "email", "display_name": "Email", "start_url": None}
    ]
    assert login.status_code == login_unnamed.status_code == 400
    assert login.json()["type"] == "urn:signet:problem:takes-no-assertions"


async def test_a_signed_in_user_by_code_has_an_email_identity(
    client: httpx.AsyncClient, outbox: Outbox, db_session: AsyncSession
) -> None:
    await start(client)
    await verify(client, code_of(outbox.messages[0]))

    identities = (await client.get("/auth/identities")).json()

    assert [(each["provider"], each["subject"]) for each in identities] == [("email", EDITH)]
    assert await count_rows(db_session, User) == 1
    assert await count_rows(db_session, IdentityRow) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not an address"},
        {"email": "edith@example.com\r\nBcc: victim@example.com"},
        {"email": 5},
        {"email": EDITH, "extra": 1},
        {},
    ],
)
async def test_bad_start_bodies_are_422_problems_and_send_nothing(
    client: httpx.AsyncClient, outbox: Outbox, body: dict[str, object]
) -> None:
    answer = await client.post("/auth/email/start", json=body)

    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert list(outbox.messages) == []


async def test_a_form_encoded_start_is_refused(client: httpx.AsyncClient) -> None:
    answer = await client.post("/auth/email/start", data={"email": EDITH})

    assert answer.status_code == 415


@pytest.mark.settings(
    rate_limit_email_per_address_and_email=3,
    rate_limit_email_per_email=5,
    rate_limit_email_per_address=6,
    trusted_proxies="127.0.0.1",
)
async def test_starts_are_limited_per_email_and_address_per_email_and_per_address(
    client: httpx.AsyncClient, outbox: Outbox, clock: FakeClock
) -> None:
    def from_(address: str) -> dict[str, str]:
        return {"X-Forwarded-For": address}

    async def start_from(address: str, email: str = EDITH) -> int:
        answer = await client.post(
            "/auth/email/start", json={"email": email}, headers=from_(address)
        )
        return answer.status_code

    pair = [await start_from("203.0.113.1") for _ in range(4)]
    per_email = [await start_from("203.0.113.2") for _ in range(3)]
    per_address = [await start_from("203.0.113.3", f"u{n}@example.com") for n in range(7)]
    clock.advance(15 * 60)
    next_window = await start_from("203.0.113.1")

    assert pair == [202, 202, 202, 429]
    assert per_email == [202, 202, 429]  # five sent to Edith from anywhere
    assert per_address == [202] * 6 + [429]
    assert next_window == 202
    assert len(outbox.messages) == 3 + 2 + 6 + 1


async def test_email_sign_in_is_a_404_where_it_is_not_offered(
    settings: Settings, engine: AsyncEngine
) -> None:
    async with serving(settings) as client:
        answer = await client.post("/auth/email/start", json={"email": EDITH})

    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


async def test_the_sign_in_page_asks_for_a_code_and_takes_it_without_javascript(
    client: httpx.AsyncClient, outbox: Outbox
) -> None:
    page = await client.get("/auth/sign-in", params={"return_to": "/reports"})
    sent = await client.post(
        "/auth/sign-in/email", data={"email": "Edith@Example.com", "return_to": "/reports"}
    )
    signed_in = await client.post(
        "/auth/sign-in/email/code", data={"email": EDITH, "code": code_of(outbox.messages[0])}
    )

    assert page.status_code == 200
    assert '<form method="post" action="/auth/sign-in/email">' in page.text
    assert 'name="return_to" value="/reports"' in page.text
    assert sent.status_code == 200
    assert "edith@example.com" in sent.text
    assert '<form method="post" action="/auth/sign-in/email/code">' in sent.text
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/reports"
    assert (await client.get("/auth/me")).json()["email"] == EDITH


async def test_the_sign_in_page_says_what_went_wrong_in_a_page(
    client: httpx.AsyncClient, outbox: Outbox
) -> None:
    not_an_address = await client.post("/auth/sign-in/email", data={"email": "nope"})
    await client.post("/auth/sign-in/email", data={"email": EDITH})
    wrong_code = await client.post(
        "/auth/sign-in/email/code",
        data={"email": EDITH, "code": wrong(code_of(outbox.messages[0]))},
    )
    outbox.unavailable = True
    unsent = await client.post("/auth/sign-in/email", data={"email": EDITH})
    forged = await client.post(
        "/auth/sign-in/email/code",
        data={"email": EDITH, "code": code_of(outbox.messages[0])},
        headers={"Origin": "https://evil.example"},
    )

    assert not_an_address.status_code == 422
    assert "not an email address" in not_an_address.text
    assert wrong_code.status_code == 401
    assert wrong_code.headers["content-type"].startswith("text/html")
    assert 'action="/auth/sign-in/email/code"' in wrong_code.text  # try again
    assert unsent.status_code == 503
    assert forged.status_code == 403


async def test_development_shows_messages_in_the_mailbox_and_prints_them(
    settings: Settings, engine: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    development = Settings(
        env="development",
        database_url=settings.database_url,
        rate_limit_email_per_address_and_email=0,
    )
    async with serving(development) as client:
        started = await client.post(
            "/auth/email/start", json={"email": EDITH}, headers={"Origin": "http://localhost:8000"}
        )
        mailbox = await client.get("/dev-idp/mailbox")

    printed = capsys.readouterr().err
    code = re.search(r"^([0-9]{6})$", printed, re.MULTILINE)
    assert started.status_code == 202
    assert code is not None
    assert code[1] in mailbox.text
    assert "Sign in to localhost" in mailbox.text
    assert '<a href="http://localhost:8000/auth/email/verify?token=' in mailbox.text


async def test_a_method_the_path_lacks_is_told_every_method_it_has(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.put("/auth/email/verify")

    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, POST"


async def test_concurrent_attempts_compare_at_most_five_times_with_a_code(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    db_sessions = create_db_sessions(engine)
    now = clock()
    async with db_sessions() as db:
        await insert_code(db=db, code=a_code("only", now), keep=3, attempts=ATTEMPTS_PER_CODE)
        await db.commit()

    async def attempt() -> int:
        async with db_sessions() as db:
            claimed = await claim_attempt(db=db, email=EDITH, now=now, attempts=ATTEMPTS_PER_CODE)
            await db.commit()
        return len(claimed)

    compared = await asyncio.gather(*(attempt() for _ in range(20)))

    assert sum(compared) == ATTEMPTS_PER_CODE


async def test_concurrent_starts_keep_three_codes(engine: AsyncEngine, clock: FakeClock) -> None:
    db_sessions = create_db_sessions(engine)

    async def keep(number: int) -> None:
        async with db_sessions() as db:
            code = a_code(f"code{number}", clock() + timedelta(seconds=number))
            await insert_code(db=db, code=code, keep=3, attempts=ATTEMPTS_PER_CODE)
            await db.commit()

    await asyncio.gather(*(keep(number) for number in range(12)))

    async with db_sessions() as db:
        assert await count_rows(db, EmailCode) == 3


def a_code(code_id: str, at: datetime) -> EmailCode:
    return EmailCode(
        id=code_id,
        email=EDITH,
        code_digest="0" * 64,
        link_digest="1" * 64,
        return_to="/",
        created_at=at,
        expires_at=at + timedelta(minutes=10),
    )


@pytest.mark.settings(rate_limit_email_code_attempts=3)
async def test_codes_tried_per_email_are_limited_so_new_codes_bring_no_new_guesses(
    client: httpx.AsyncClient, outbox: Outbox
) -> None:
    await start(client)
    code = code_of(outbox.messages[0])

    tries = [(await verify(client, wrong(code))).status_code for _ in range(3)]
    right = await verify(client, code)

    assert tries == [401, 401, 401]
    assert right.status_code == 429
    assert "retry-after" in right.headers


async def test_the_link_button_works_where_signet_and_the_app_have_different_origins(
    settings: Settings, engine: AsyncEngine, clock: FakeClock, outbox: Outbox
) -> None:
    # The audience is the app's origin; Signet is reached at its own, behind a proxy that
    # forwards plain HTTP (so the request's own scheme and host do not say it).
    apart = email_settings(settings, public_url="https://auth.example")
    async with serving(apart, clock=clock, mailer=outbox) as client:
        await client.post("/auth/email/start", json={"email": EDITH})
        token = token_of(link_of(outbox.messages[0]))
        signed_in = await client.post(
            "http://127.0.0.1/auth/email/link",
            data={"token": token},
            headers={"Origin": "https://auth.example"},
        )

    assert signed_in.status_code == 303


@pytest.mark.parametrize("return_to", ["http://[::1", "https://app.example:99999/", "//x"])
async def test_a_return_to_that_is_no_url_is_a_400(
    client: httpx.AsyncClient, return_to: str
) -> None:
    answer = await start(client, return_to=return_to)

    assert answer.status_code == 400
    assert answer.json()["type"] == "urn:signet:problem:invalid-return-to"


@pytest.mark.parametrize(
    ("ttl", "said"), [(60, "1 minute"), (90, "90 seconds"), (7200, "120 minutes")]
)
async def test_the_message_says_how_long_the_code_works(
    settings: Settings, engine: AsyncEngine, outbox: Outbox, ttl: int, said: str
) -> None:
    async with serving(email_settings(settings, email_code_ttl=ttl), mailer=outbox) as client:
        await start(client)

    assert f"within {said}." in text_of(outbox.messages[0])


async def test_pages_and_links_live_under_the_public_urls_path(
    settings: Settings, engine: AsyncEngine, outbox: Outbox
) -> None:
    under = email_settings(settings, public_url=f"{APP_ORIGIN}/signet")
    async with serving(under, mailer=outbox) as client:
        sign_in = await client.get("/auth/sign-in")
        await start(client)
        link = link_of(outbox.messages[0])
        page = await client.get("/auth/email/verify", params={"token": token_of(link)})

    assert 'action="/signet/auth/sign-in/email"' in sign_in.text
    assert link.startswith(f"{APP_ORIGIN}/signet/auth/email/verify?token=")
    assert 'action="/signet/auth/email/link"' in page.text


async def test_a_link_without_its_token_is_a_page_saying_so(client: httpx.AsyncClient) -> None:
    bare = await client.get("/auth/email/verify", headers={"Accept": "text/html"})
    run_on = await client.get(
        "/auth/email/verify", params={"token": "x" * 5000}, headers={"Accept": "text/html"}
    )

    assert bare.status_code == run_on.status_code == 401
    assert "Code rejected" in bare.text


async def test_start_limits_are_shared_by_every_worker(
    settings: Settings, engine: AsyncEngine, outbox: Outbox
) -> None:
    limited = email_settings(settings, rate_limit_email_per_address_and_email=3)
    async with two_workers(limited, mailer=outbox) as (one, two):
        answers = [
            (await worker.post("/auth/email/start", json={"email": EDITH})).status_code
            for worker in (one, two, one, two)
        ]

    assert answers == [202, 202, 202, 429]


async def test_the_link_of_a_disabled_user_goes_back_saying_so(
    client: httpx.AsyncClient, outbox: Outbox, db_session: AsyncSession
) -> None:
    await start(client, return_to="/welcome")
    await client.post("/auth/email/link", data={"token": token_of(link_of(outbox.messages[0]))})
    user = await db_session.get(User, EDITH)
    assert user is not None
    user.disabled = True
    await db_session.commit()
    client.cookies.clear()
    await start(client, return_to="/welcome")

    refused = await client.post(
        "/auth/email/link", data={"token": token_of(link_of(outbox.messages[1]))}
    )

    assert refused.status_code == 303
    assert refused.headers["location"] == "/welcome?signet_error=account_disabled"
    assert "set-cookie" not in refused.headers
