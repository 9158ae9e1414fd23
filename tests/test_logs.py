"""Logs: a request id on every request and answer, one event per login, no secrets."""

import io
import json
import logging
import time

import httpx
import pytest
import sqlalchemy.exc
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.observability import logs
from api.observability.access_log import AccessLog
from api.observability.logs import JSONFormatter, request_id_for
from api.store.db import create_db_sessions
from api.testing import FakeProvider


@pytest.fixture
def verifier(verifier: FakeProvider) -> FakeProvider:
    verifier.accept("the-secret-assertion", email="edith@example.com")
    return verifier


async def test_every_answer_carries_a_request_id(client: httpx.AsyncClient) -> None:
    first = await client.get("/healthz")
    second = await client.get("/healthz")

    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_an_incoming_request_id_is_kept_and_a_bad_one_replaced(
    client: httpx.AsyncClient,
) -> None:
    kept = await client.get("/healthz", headers={"x-request-id": "lb-1234.abc"})
    replaced = await client.get("/healthz", headers={"x-request-id": "bad id\nforged: line"})

    assert kept.headers["x-request-id"] == "lb-1234.abc"
    assert replaced.headers["x-request-id"] != "bad id\nforged: line"


async def test_one_access_line_per_request_with_its_id_and_no_query(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="signet"):
        await client.get("/auth/me?token=secret", headers={"x-request-id": "req-7"})

    (line,) = [record for record in caplog.records if record.name == "signet.access"]
    assert line.getMessage() == "GET /auth/me 401"
    assert (line.__dict__["status"], line.__dict__["request_id"]) == (401, "req-7")
    assert "secret" not in caplog.text


async def test_login_events_say_the_outcome_but_never_the_assertion_or_email(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="signet"):
        ok = await client.post("/auth/login", json={"assertion": "the-secret-assertion"})
        rejected = await client.post("/auth/login", json={"assertion": "forged"})

    events = [record for record in caplog.records if record.name == "signet.events"]
    assert [event.__dict__["outcome"] for event in events] == ["ok", "AssertionRejected"]
    assert "the-secret-assertion" not in caplog.text
    assert "edith@example.com" not in caplog.text
    assert ok.cookies["__Host-signet_session"] not in caplog.text
    assert rejected.status_code == 401


def test_json_lines_carry_the_extra_fields() -> None:
    record = logging.makeLogRecord(
        {"name": "signet.events", "msg": "login %s", "args": ("ok",), "levelname": "INFO"}
    )
    record.outcome = "ok"

    entry = json.loads(JSONFormatter().format(record))

    assert entry["message"] == "login ok"
    assert entry["outcome"] == "ok"
    assert entry["logger"] == "signet.events"


@pytest.mark.parametrize(
    "formatter",
    [
        JSONFormatter(),
        logging.Formatter("%(levelname)-8s %(name)s [%(request_id)s] %(message)s"),
    ],
)
def test_an_access_line_written_directly_reads_as_through_logging(
    monkeypatch: pytest.MonkeyPatch, formatter: logging.Formatter
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    signet = logging.getLogger("signet")
    monkeypatch.setattr(signet, "handlers", [handler])
    monkeypatch.setattr(logs, "_signet_handler", handler)
    access_log = AccessLog(json_lines=isinstance(formatter, JSONFormatter))

    def answer() -> None:
        access_log.answered(
            request_id="req-1",
            method="GET",
            path='/a "b"\n',
            status=204,
            started=time.perf_counter(),
        )

    monkeypatch.setattr(logging.root, "handlers", [])  # Signet's handler is the only listener
    answer()
    access_log.flush()
    direct = stream.getvalue()
    stream.truncate(0)
    stream.seek(0)
    monkeypatch.setattr(logging.root, "handlers", [logging.NullHandler()])  # another listener
    answer()
    through_logging = stream.getvalue()

    assert direct.count("\n") == through_logging.count("\n") == 1  # the path's is escaped
    if isinstance(formatter, JSONFormatter):
        ignored = {"time", "duration_ms"}
        assert {key: value for key, value in json.loads(direct).items() if key not in ignored} == {
            key: value for key, value in json.loads(through_logging).items() if key not in ignored
        }
    else:
        assert direct == through_logging


async def test_a_failed_statement_never_carries_its_parameters(engine: AsyncEngine) -> None:
    async with create_db_sessions(engine)() as db:
        with pytest.raises(sqlalchemy.exc.DBAPIError) as failed:
            await db.execute(
                text("INSERT INTO no_such_table (email) VALUES (:email)"),
                {"email": "edith@example.com"},
            )

    assert "edith@example.com" not in str(failed.value)


async def test_an_unexpected_error_is_a_500_problem_with_the_request_id_and_an_access_line(
    app: FastAPI, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken() -> None:
        raise RuntimeError("a bug, with a secret in its message")

    app.add_api_route("/broken", broken)
    with caplog.at_level(logging.INFO, logger="signet"):
        response = await client.get("/broken", headers={"x-request-id": "req-500"})

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "req-500"
    assert response.json()["request_id"] == "req-500"
    assert "secret" not in response.text
    (line,) = [record for record in caplog.records if record.name == "signet.access"]
    assert line.getMessage() == "GET /broken 500"


def test_new_request_ids_are_sixteen_hex_digits_and_never_repeat() -> None:
    ids = [request_id_for(None) for _ in range(2_000)]  # across refills of the batch

    assert len(set(ids)) == len(ids)
    assert all(len(new) == 16 and int(new, 16) >= 0 for new in ids)
    assert request_id_for("gw-42") == "gw-42"
