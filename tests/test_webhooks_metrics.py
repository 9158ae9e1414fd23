"""The webhook and mail metrics: deliveries by outcome, the backlog, and mail sent."""

from prometheus_client import generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine

from api.config import Settings
from api.mail.outbox import Outbox
from api.observability.metrics import PrometheusMetrics
from api.services import services_of
from api.testing import FakeClock
from tests.apps import APP_ORIGIN, serving
from tests.test_email_sign_in import email_settings
from tests.webhook_apps import sign_in, signet, webhook_settings
from tests.webhook_receiver import Received, eventually, receiving


async def test_deliveries_are_counted_by_outcome_and_the_backlog_is_a_gauge(
    engine: AsyncEngine, database_url: str
) -> None:
    answers = iter([500])

    def once_failing(_: Received) -> tuple[int, dict[str, str]]:
        return next(answers, 204), {}

    metrics = PrometheusMetrics()

    def text() -> str:
        return generate_latest(metrics.registry).decode()

    with receiving(answer=once_failing) as receiver:
        settings = webhook_settings(database_url, receiver.url, variables={"EVENTS": "user."})
        async with signet(settings, metrics=metrics) as app:
            assert services_of(app).metrics is metrics
            await sign_in(app, "edith@example.com")
            delivered = 'signet_webhook_deliveries_total{outcome="delivered",webhook="hook"} 1.0'
            await eventually(lambda: delivered in text())
            await eventually(lambda: 'signet_webhook_backlog{webhook="hook"} 0.0' in text())

    assert 'signet_webhook_deliveries_total{outcome="retrying",webhook="hook"} 1.0' in text()
    assert len(receiver.received) == 2


async def test_mail_sent_is_counted_by_outcome(
    settings: Settings, engine: AsyncEngine, clock: FakeClock
) -> None:
    metrics, outbox = PrometheusMetrics(), Outbox()
    changes = {"metrics": True}
    async with serving(
        email_settings(settings, **changes), clock=clock, mailer=outbox, metrics=metrics
    ) as client:
        client.headers["Origin"] = APP_ORIGIN
        body = {"email": "edith@example.com"}
        assert (await client.post("/auth/email/start", json=body)).status_code < 300
        outbox.unavailable = True
        assert (await client.post("/auth/email/start", json=body)).status_code == 503

    text = generate_latest(metrics.registry).decode()
    assert 'signet_mail_sent_total{outcome="sent"} 1.0' in text
    assert 'signet_mail_sent_total{outcome="failed"} 1.0' in text
