"""Webhook delivery, in-process against a real receiver on loopback that verifies signatures
with the `standardwebhooks` package: what arrives, what is retried and how, what a 410 does."""

import time

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

import api.webhooks.delivery
from api.auth.events import CLI
from api.services import services_of
from api.store.events import event_public
from api.store.operator_tables import EventRow
from api.store.webhook_deliveries import DELIVERED, FAILED, PENDING
from api.webhooks.sender import USER_AGENT
from tests.webhook_apps import deliveries, event_ids, sign_in, signet, webhook_settings
from tests.webhook_receiver import OTHER_SECRET, SECRET, Received, eventually, receiving


async def test_each_event_arrives_signed_as_the_admin_api_shows_it(
    engine: AsyncEngine, database_url: str
) -> None:
    with receiving() as receiver:
        async with signet(webhook_settings(database_url, receiver.url)) as app:
            await sign_in(app, "edith@example.com")
            owed = await event_ids(app)
            await eventually(lambda: sorted(receiver.ids()) == owed)
            async with services_of(app).db_sessions() as db:
                rows = {row.id: row for row in [await db.get_one(EventRow, i) for i in owed]}

    # No order is promised: the two go out at once.
    arrived = sorted(receiver.received, key=lambda got: got.id)
    assert [got.event["type"] for got in arrived] == ["user.created", "session.created"]
    for got in receiver.received:
        assert got.verified == (True,)
        assert got.body == event_public(rows[got.id]).model_dump_json().encode()
        assert got.headers["content-type"] == "application/json"
        assert got.headers["user-agent"] == USER_AGENT
        assert got.headers["webhook-signature"].startswith("v1,")
        assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 30


async def test_during_a_rotation_each_attempt_carries_both_signatures(
    engine: AsyncEngine, database_url: str
) -> None:
    both = f"{OTHER_SECRET} {SECRET}"
    with receiving(secrets=(SECRET, OTHER_SECRET, "whsec_" + "A" * 32)) as receiver:
        settings = webhook_settings(database_url, receiver.url, variables={"SECRET": both})
        async with signet(settings) as app:
            await sign_in(app, "edith@example.com")
            await eventually(lambda: len(receiver.ids()) == 2)

    for got in receiver.received:
        assert len(got.headers["webhook-signature"].split(" ")) == 2
        # Either secret verifies it; a third does not.
        assert got.verified == (True, True, False)


async def test_a_webhook_gets_only_the_events_it_asks_for(
    engine: AsyncEngine, database_url: str
) -> None:
    with receiving() as receiver:
        variables = {"EVENTS": "user.,admin_key.created"}
        async with signet(webhook_settings(database_url, receiver.url, variables=variables)) as app:
            await sign_in(app, "edith@example.com")
            await services_of(app).admin_keys.create("ops", actor=CLI)
            owed = await event_ids(app, types=("user.", "admin_key.created"))
            await eventually(lambda: sorted(receiver.ids()) == owed)
            every = await event_ids(app)

    arrived = sorted(receiver.received, key=lambda got: got.id)
    assert [got.event["type"] for got in arrived] == ["user.created", "admin_key.created"]
    assert len(every) == 3  # session.created was not sent


async def test_a_receiver_down_for_a_burst_of_sign_ins_gets_every_event_once_up(
    engine: AsyncEngine, database_url: str
) -> None:
    with receiving() as receiver:
        async with signet(webhook_settings(database_url, receiver.url)) as app:
            receiver.down()  # connections refused
            for number in range(10):
                await sign_in(app, f"user{number}@example.com")
            owed = await event_ids(app)
            await eventually(lambda: _tried_at_least_twice(app, owed[0]), within=10)
            receiver.up()
            await eventually(lambda: set(receiver.ids()) == set(owed), within=10)
            await eventually(lambda: _all(app, DELIVERED))

    assert sorted(receiver.ids()) == owed  # each once
    assert all(got.verified == (True,) for got in receiver.received)


async def test_error_statuses_are_retried_until_a_2xx(
    engine: AsyncEngine, database_url: str
) -> None:
    answers = iter([500, 502, 429])

    def flaky(_: Received) -> tuple[int, dict[str, str]]:
        return next(answers, 200), {}

    with receiving(answer=flaky) as receiver:
        async with signet(
            webhook_settings(database_url, receiver.url, variables={"EVENTS": "user."})
        ) as app:
            await sign_in(app, "edith@example.com")
            await eventually(lambda: _all(app, DELIVERED))
            (delivery,) = (await deliveries(app)).values()

    assert len(receiver.ids()) == 4
    assert len(set(receiver.ids())) == 1
    assert delivery.attempts == 4
    assert delivery.last_error is None


async def test_a_redirect_is_never_followed_and_counts_as_a_failure(
    engine: AsyncEngine, database_url: str
) -> None:
    with receiving(answer=lambda _: (307, {"location": "/elsewhere"})) as receiver:
        settings = webhook_settings(database_url, receiver.url, variables={"EVENTS": "user."})
        async with signet(settings) as app:
            await sign_in(app, "edith@example.com")
            await eventually(lambda: len(receiver.received) >= 2)
            (delivery,) = (await deliveries(app)).values()

    assert {got.path for got in receiver.received} == {"/hooks/signet"}
    assert delivery.status == PENDING
    assert "redirect" in (delivery.last_error or "")


async def test_retry_after_is_honoured(engine: AsyncEngine, database_url: str) -> None:
    answers = iter([(503, {"retry-after": "1"})])

    def busy(_: Received) -> tuple[int, dict[str, str]]:
        return next(answers, (200, {}))

    with receiving(answer=busy) as receiver:
        settings = webhook_settings(database_url, receiver.url, variables={"EVENTS": "user."})
        async with signet(settings) as app:
            await sign_in(app, "edith@example.com")
            await eventually(lambda: _all(app, DELIVERED))

    first, second = receiver.received
    # Not after RETRY_MIN (0.05 s) but after the second the receiver asked for.
    assert second.at - first.at >= 0.95


async def test_a_delivery_older_than_the_max_age_fails(
    engine: AsyncEngine, database_url: str
) -> None:
    with receiving(answer=lambda _: (500, {})) as receiver:
        settings = webhook_settings(
            database_url, receiver.url, variables={"EVENTS": "user."}, webhooks_max_age=1
        )
        async with signet(settings) as app:
            await sign_in(app, "edith@example.com")
            await eventually(lambda: _all(app, FAILED))
            (delivery,) = (await deliveries(app)).values()
            tries = len(receiver.received)

    assert delivery.last_error == "500 Internal Server Error"
    assert delivery.attempts == tries >= 2


async def test_410_gone_disables_the_webhook_until_its_settings_change(
    engine: AsyncEngine, database_url: str
) -> None:
    with receiving(answer=lambda _: (410, {})) as receiver:
        settings = webhook_settings(database_url, receiver.url, variables={"EVENTS": "user."})
        async with signet(settings) as app:
            await sign_in(app, "edith@example.com")
            await eventually(lambda: _all(app, FAILED))
            await sign_in(app, "walter@example.com")  # not sent: the webhook is disabled
            gone = await event_ids(app)
        assert len(receiver.ids()) == 1

        receiver.answer = lambda _: (204, {})
        rotated = webhook_settings(
            database_url, receiver.url, variables={"EVENTS": "user.", "SECRET": OTHER_SECRET}
        )
        async with signet(rotated) as app:
            await sign_in(app, "jesse@example.com")
            owed = await event_ids(app, after=gone[-1], types=("user.",))
            await eventually(lambda: receiver.ids()[1:] == owed)

    assert [got.event["email"] for got in receiver.received] == [
        "edith@example.com",
        "jesse@example.com",
    ]


async def test_a_webhook_added_later_starts_at_the_newest_event(
    engine: AsyncEngine, database_url: str
) -> None:
    with receiving() as receiver:
        async with signet(webhook_settings(database_url, receiver.url, webhooks="")) as app:
            await sign_in(app, "edith@example.com")
            before = await event_ids(app)
        async with signet(webhook_settings(database_url, receiver.url)) as app:
            await sign_in(app, "walter@example.com")
            owed = await event_ids(app, after=before[-1])
            await eventually(lambda: sorted(receiver.ids()) == owed)

    assert set(receiver.ids()).isdisjoint(before)
    assert {got.event["email"] for got in receiver.received} == {"walter@example.com"}


async def _tried_at_least_twice(app: object, event_id: int) -> bool:
    delivery = (await deliveries(app)).get(event_id)  # type: ignore[arg-type]
    return delivery is not None and delivery.attempts >= 2


async def _all(app: object, status: str) -> bool:
    rows = (await deliveries(app)).values()  # type: ignore[arg-type]
    return bool(rows) and all(row.status == status for row in rows)


async def test_a_fault_of_signets_while_sending_is_a_failed_try_with_its_backoff(
    engine: AsyncEngine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(api.webhooks.delivery, "attempt", broken)
    with receiving() as receiver:
        settings = webhook_settings(database_url, receiver.url, variables={"EVENTS": "user."})
        async with signet(settings) as app:
            await sign_in(app, "edith@example.com")
            await eventually(lambda: _tried(app))
            (delivery,) = (await deliveries(app)).values()

    assert receiver.received == []
    assert delivery.status in (PENDING, FAILED)
    assert delivery.attempts >= 1
    assert delivery.last_error == "Signet could not send it (RuntimeError)"


async def _tried(app: FastAPI) -> bool:
    return any(row.attempts for row in (await deliveries(app)).values())
