"""The admin API's webhook routes, the webhook settings, signing and backoff, and the event
retention that never purges what a webhook still owes."""

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col
from standardwebhooks.webhooks import Webhook

from api.auth.events import CLI
from api.config import Settings
from api.environment import check_environment
from api.housekeeping import purge_old_events
from api.services import open_services, services_of
from api.store.operator_tables import EventRow, WebhookDelivery, WebhookState
from api.store.webhook_deliveries import DELIVERED, FAILED, PENDING
from api.webhooks.backoff import retry_after_seconds, retry_delay
from api.webhooks.signing import secret_key, signatures
from tests.apps import client_of, suite_settings
from tests.webhook_apps import deliveries, event_ids, sign_in, signet, webhook_settings
from tests.webhook_receiver import SECRET, eventually, receiving


@asynccontextmanager
async def admin(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app's admin API, with a new admin key."""
    key = (await services_of(app).admin_keys.create("test", actor=CLI)).key
    async with client_of(app) as client:
        client.headers["authorization"] = f"Bearer {key}"
        yield client


async def test_the_admin_api_lists_webhooks_their_deliveries_and_retries_one(
    engine: AsyncEngine, database_url: str
) -> None:
    with receiving(answer=lambda _: (500, {})) as receiver:
        settings = webhook_settings(database_url, receiver.url, variables={"EVENTS": "user."})
        async with signet(settings) as app, admin(app) as client:
            for name in ("edith", "walter", "jesse"):
                await sign_in(app, f"{name}@example.com")
            owed = await event_ids(app, types=("user.",))
            await eventually(lambda: len(receiver.received) >= 3)

            listed = (await client.get("/admin/v1/webhooks")).json()
            (hook,) = listed["items"]
            assert hook["name"] == "hook"
            assert hook["url"] == receiver.url.removesuffix("/hooks/signet")  # origin only
            assert hook["events"] == ["user."]
            assert hook["backlog"] == 3
            assert hook["disabled"] is False
            assert hook["last_error"] == "500 Internal Server Error"
            assert listed["next_cursor"] is None

            first = (await client.get("/admin/v1/webhooks/hook/deliveries?limit=2")).json()
            rest = await client.get(
                f"/admin/v1/webhooks/hook/deliveries?limit=2&cursor={first['next_cursor']}"
            )
            items = first["items"] + rest.json()["items"]
            assert [item["event_id"] for item in items] == owed
            assert rest.json()["next_cursor"] is None
            assert {item["status"] for item in items} == {PENDING}
            assert set(items[0]) == {
                "event_id",
                "status",
                "attempts",
                "last_attempt_at",
                "last_error",
            }

            receiver.answer = lambda _: (200, {})
            await eventually(lambda: _only(app, DELIVERED))
            done = await client.get("/admin/v1/webhooks/hook/deliveries?status=delivered")
            assert len(done.json()["items"]) == 3
            none = await client.get("/admin/v1/webhooks/hook/deliveries?status=failed")
            assert none.json()["items"] == []

            sent = len(receiver.received)
            retried = await client.post(f"/admin/v1/webhooks/hook/deliveries/{owed[0]}/retry")
            assert retried.status_code == 202
            assert retried.json()["event_id"] == owed[0]
            await eventually(lambda: len(receiver.received) == sent + 1)
            assert receiver.ids()[-1] == owed[0]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/admin/v1/webhooks/nope/deliveries", 404),
        ("GET", "/admin/v1/webhooks/hook/deliveries?status=lost", 422),
        ("GET", "/admin/v1/webhooks/hook/deliveries?limit=0", 422),
        ("GET", "/admin/v1/webhooks/hook/deliveries?limit=500", 422),
        ("GET", "/admin/v1/webhooks/hook/deliveries?cursor=garbage", 400),
        ("GET", "/admin/v1/webhooks?cursor=eyJhZnRlciI6IDF9", 400),  # an int where a name goes
        ("POST", "/admin/v1/webhooks/hook/deliveries/999/retry", 404),
        ("POST", "/admin/v1/webhooks/nope/deliveries/1/retry", 404),
        ("POST", "/admin/v1/webhooks/hook/deliveries/x/retry", 422),
    ],
)
async def test_bad_inputs_are_problems(
    engine: AsyncEngine, database_url: str, method: str, path: str, status: int
) -> None:
    with receiving() as receiver:
        settings = webhook_settings(database_url, receiver.url)
        async with signet(settings) as app, admin(app) as client, client_of(app) as anonymous:
            response = await client.request(method, path)
            refused = await anonymous.request(method, path)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert refused.status_code == 401


async def test_a_disabled_webhook_says_so(engine: AsyncEngine, database_url: str) -> None:
    with receiving(answer=lambda _: (410, {})) as receiver:
        settings = webhook_settings(database_url, receiver.url, variables={"EVENTS": "user."})
        async with signet(settings) as app, admin(app) as client:
            await sign_in(app, "edith@example.com")
            await eventually(lambda: _only(app, FAILED))
            (hook,) = (await client.get("/admin/v1/webhooks")).json()["items"]

    assert hook["disabled"] is True
    assert hook["last_error"].startswith("410 Gone")


async def test_retention_purges_old_events_but_none_a_webhook_still_owes(
    engine: AsyncEngine, database_url: str
) -> None:
    variables = {"SIGNET_WEBHOOK_CRM_URL": "https://hooks.example/in"}
    variables["SIGNET_WEBHOOK_CRM_SECRET"] = SECRET
    settings = suite_settings(
        database_url, webhooks="crm", webhook_variables=variables, event_retention=60
    )
    old = datetime.now(UTC) - timedelta(days=1)
    async with open_services(settings) as services, services.db_sessions() as db:
        row = {"type": "user.created", "at": old, "actor_kind": "cli", "data": "{}"}
        await db.execute(insert(EventRow), [row, row, row, row])
        await db.execute(insert(EventRow), [{**row, "at": datetime.now(UTC)}])
        ids = await _event_ids(db)
        delivered, pending, _, removed, recent = ids
        db.add(WebhookState(name="crm", last_event_id=recent, settings_digest="-"))
        for webhook, event_id, status in (
            ("crm", delivered, DELIVERED),
            ("crm", pending, PENDING),
            # Owed to a webhook taken out of the settings: it holds nothing back.
            ("gone", removed, PENDING),
        ):
            delivery = WebhookDelivery(
                webhook=webhook, event_id=event_id, status=status, next_attempt_at=old
            )
            db.add(delivery)
        await db.commit()
        purged = await purge_old_events(services)
        kept = await _event_ids(db)
        owed = (await db.scalars(select(col(WebhookDelivery.event_id)))).all()

    assert purged == 3
    assert kept == [pending, recent]
    assert owed == [pending]  # the others' rows went with their events


async def test_retention_keeps_events_not_yet_handed_to_every_webhook(
    engine: AsyncEngine, database_url: str
) -> None:
    variables = {
        f"SIGNET_WEBHOOK_{name}_{field}": value
        for name in ("HOOK", "OTHER")
        for field, value in (("URL", "https://hooks.example/in"), ("SECRET", SECRET))
    }
    settings = suite_settings(
        database_url, webhooks="hook,other", webhook_variables=variables, event_retention=60
    )
    old = datetime.now(UTC) - timedelta(days=1)
    # The services without their lifespan: no delivery loop moves the cursors meanwhile.
    async with open_services(settings) as services, services.db_sessions() as db:
        row = {"type": "user.created", "at": old, "actor_kind": "cli", "data": "{}"}
        await db.execute(insert(EventRow), [row, row, row])
        ids = await _event_ids(db)
        for name, cursor in (("hook", ids[2]), ("other", ids[0])):
            db.add(WebhookState(name=name, last_event_id=cursor, settings_digest="-"))
        await db.commit()
        purged = await purge_old_events(services)
        kept = await _event_ids(db)

    assert purged == 1
    assert kept == ids[1:]


def test_webhook_settings_are_checked_naming_the_variable(database_url: str) -> None:
    def settings(**variables: str) -> Settings:
        given = {"URL": "https://hooks.example/in", "SECRET": SECRET, **variables}
        return suite_settings(
            database_url,
            webhooks="crm",
            webhook_variables={f"SIGNET_WEBHOOK_CRM_{k}": v for k, v in given.items() if v},
        )

    assert settings().webhook_configs[0].origin == "https://hooks.example"
    with_password = settings(URL="https://svc:s3cret@Hooks.example:8443/in/7f3a")
    assert with_password.webhook_configs[0].origin == "https://hooks.example:8443"
    assert settings(URL="http://127.0.0.1:9/in").webhook_configs[0].url == "http://127.0.0.1:9/in"
    cases = {
        "SIGNET_WEBHOOK_CRM_URL must use https": {"URL": "http://hooks.example/in"},
        "SIGNET_WEBHOOK_CRM_URL is required": {"URL": ""},
        "SIGNET_WEBHOOK_CRM_SECRET must start with whsec_": {"SECRET": "c2VjcmV0"},
        "SIGNET_WEBHOOK_CRM_SECRET must hold at least 24 bytes": {"SECRET": "whsec_c2VjcmV0"},
        "SIGNET_WEBHOOK_CRM_SECRET must be whsec_ and base64": {"SECRET": "whsec_not base64!"},
        "SIGNET_WEBHOOK_CRM_EVENTS: 'user.made'": {"EVENTS": "user.made"},
        "SIGNET_WEBHOOK_CRM_EVENTS: 'nothing.'": {"EVENTS": "nothing."},
        "SIGNET_WEBHOOK_CRM_COLOR is not a webhook setting": {"COLOR": "red"},
    }
    for message, variables in cases.items():
        with pytest.raises(ValueError, match=message.replace(".", r"\.")):
            settings(**variables)
    with pytest.raises(ValueError, match="SIGNET_WEBHOOKS_RETRY_MIN"):
        suite_settings(database_url, webhooks_retry_min=10, webhooks_retry_max=5)
    with pytest.raises(ValueError, match="not a webhook name"):
        suite_settings(database_url, webhooks="Bad-Name")


def test_the_default_events_are_all_but_failed_sign_ins(database_url: str) -> None:
    variables = {"SIGNET_WEBHOOK_CRM_URL": "https://h.example", "SIGNET_WEBHOOK_CRM_SECRET": SECRET}
    (config,) = suite_settings(
        database_url, webhooks="crm", webhook_variables=variables
    ).webhook_configs

    assert config.wants("user.created")
    assert config.wants("session.ended")
    assert not config.wants("sign_in.failed")


def test_the_unknown_setting_check_knows_the_webhooks_variables() -> None:
    environ = {
        "SIGNET_WEBHOOKS": "crm",
        "SIGNET_WEBHOOK_CRM_URL": "https://h.example",
        "SIGNET_WEBHOOKS_RETRY_MIN": "5",
        "SIGNET_WEBHOOK_CRM_SECRET": "'whsec_quoted'",
    }
    known = {f"SIGNET_{name.upper()}" for name in Settings.model_fields}
    report = check_environment(environ, known=known, production=True)

    assert report.warnings == []
    assert report.errors == [
        "SIGNET_WEBHOOK_CRM_SECRET: the value holds quotes or a trailing '# comment'; "
        "give the bare value"
    ]


def test_signatures_are_the_standard_webhooks_ones() -> None:
    body = b'{"id":7}'
    at = datetime(2026, 12, 5, tzinfo=UTC)
    ours = signatures(
        [secret_key(SECRET)], message_id="7", timestamp=int(at.timestamp()), body=body
    )

    assert ours == Webhook(SECRET).sign("7", at, body)


def test_backoff_doubles_with_jitter_between_the_least_and_most_and_honours_retry_after() -> None:
    rng = random.Random(7)  # noqa: S311  (jitter)
    waits = [retry_delay(n, least=5, most=3600, rng=rng) for n in range(1, 15)]

    assert all(5 <= wait <= 3600 for wait in waits)
    assert 2.5 * 2**4 <= waits[4] <= 5 * 2**4
    assert waits[-1] >= 1800
    assert retry_delay(1, least=5, most=3600, retry_after=120, rng=rng) == 120
    now = datetime(2026, 12, 5, tzinfo=UTC)
    assert retry_after_seconds("30", now=now) == 30
    assert retry_after_seconds("Sat, 05 Dec 2026 00:01:00 GMT", now=now) == 60
    assert retry_after_seconds("soon", now=now) is None
    assert retry_after_seconds("²", now=now) is None  # a digit to isdigit(), not to float()


async def _only(app: FastAPI, status: str) -> bool:
    """Whether there are deliveries, all of `status`."""
    return {row.status for row in (await deliveries(app)).values()} == {status}


async def _event_ids(db: AsyncSession) -> list[int]:
    return [
        int(i or 0) for i in await db.scalars(select(col(EventRow.id)).order_by(col(EventRow.id)))
    ]
