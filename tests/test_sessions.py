"""Session tokens: what they prove, for how long, and under which keys."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from api.auth.tokens import (
    SessionClaims,
    TokenKind,
    _serializer,
    issue_token,
    read_token,
    token_lifetime,
)
from api.config import Settings

START = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
HOUR = 3600
OLD_KEY = "the-previous-secret-key-0123456789abcdef"
NEW_KEY = "the-current-secret-key-0123456789abcdefgh"


@pytest.fixture
def token_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "secret_key": SecretStr(NEW_KEY),
            "session_idle_timeout": 10 * HOUR,
            "session_absolute_timeout": 24 * HOUR,
            "session_refresh_after": 0.5,
        }
    )


def issue(settings: Settings, *, at: datetime, started_at: datetime = START) -> str:
    return issue_token(
        settings=settings, kind=TokenKind.COOKIE, session_id="sid", started_at=started_at, now=at
    )


def read(settings: Settings, token: str, *, at: datetime) -> SessionClaims | None:
    return read_token(settings=settings, kind=TokenKind.COOKIE, token=token, now=at)


def test_a_fresh_token_names_its_session_and_start(token_settings: Settings) -> None:
    claims = read(token_settings, issue(token_settings, at=START), at=START)

    assert claims == SessionClaims(
        session_id="sid",
        started_at=START,
        issued_at=START,
        signed_with_fallback=False,
        needs_refresh=False,
    )


def test_idle_timeout_counts_from_the_last_issue(token_settings: Settings) -> None:
    token = issue(token_settings, at=START)

    # Its end is the first instant it no longer works, as for the session's row.
    assert read(token_settings, token, at=START + timedelta(hours=10, seconds=-1)) is not None
    assert read(token_settings, token, at=START + timedelta(hours=10)) is None


def test_a_token_past_half_its_idle_window_asks_to_be_refreshed(token_settings: Settings) -> None:
    token = issue(token_settings, at=START)

    early = read(token_settings, token, at=START + timedelta(hours=5))
    late = read(token_settings, token, at=START + timedelta(hours=5, seconds=1))

    assert early is not None
    assert not early.needs_refresh
    assert late is not None
    assert late.needs_refresh


def test_re_issuing_never_extends_the_absolute_cap(token_settings: Settings) -> None:
    # Re-issued 23 hours into the session: the idle window would allow 10 more hours...
    reissued = issue(token_settings, at=START + timedelta(hours=23))

    # ...but the session ends 24 hours after it started.
    assert read(token_settings, reissued, at=START + timedelta(hours=24, seconds=-1)) is not None
    assert read(token_settings, reissued, at=START + timedelta(hours=24)) is None


def test_lifetime_is_the_idle_window_capped_by_the_absolute_end(token_settings: Settings) -> None:
    assert token_lifetime(settings=token_settings, started_at=START, now=START) == 10 * HOUR
    late = START + timedelta(hours=20)
    assert token_lifetime(settings=token_settings, started_at=START, now=late) == 4 * HOUR
    over = START + timedelta(hours=30)
    assert token_lifetime(settings=token_settings, started_at=START, now=over) == 0


def test_a_fallback_key_still_verifies_and_asks_for_a_refresh(token_settings: Settings) -> None:
    before_rotation = token_settings.model_copy(update={"secret_key": SecretStr(OLD_KEY)})
    after_rotation = token_settings.model_copy(
        update={"secret_key_fallbacks": (SecretStr(OLD_KEY),)}
    )
    token = issue(before_rotation, at=START)

    claims = read(after_rotation, token, at=START)

    assert claims is not None
    assert claims.needs_refresh


def test_a_key_removed_from_both_lists_invalidates_its_tokens(token_settings: Settings) -> None:
    before_rotation = token_settings.model_copy(update={"secret_key": SecretStr(OLD_KEY)})
    token = issue(before_rotation, at=START)

    assert read(token_settings, token, at=START) is None


def test_cookie_and_bearer_tokens_are_not_interchangeable(token_settings: Settings) -> None:
    cookie = issue(token_settings, at=START)

    as_bearer = read_token(settings=token_settings, kind=TokenKind.BEARER, token=cookie, now=START)

    assert as_bearer is None


@pytest.mark.parametrize(
    "token",
    ["", "sid", "a.b.c", "W10.aaaa.bbbb", "e30.AAAAAA.AAAA", "\x00\xff"],
)
def test_malformed_tokens_are_rejected(token_settings: Settings, token: str) -> None:
    assert read(token_settings, token, at=START) is None


@pytest.mark.parametrize(
    "payload",
    [["sid"], ["sid", "yesterday"], [1, 2], {"sid": 1}, "sid", ["sid", True], ["sid", 10**20]],
)
def test_genuine_signatures_over_the_wrong_shape_are_rejected(
    token_settings: Settings, payload: object
) -> None:
    # Only Signet can sign, but a token must still have exactly the shape it issues.
    token = _serializer(NEW_KEY, TokenKind.COOKIE, START).dumps(payload)

    assert read(token_settings, token, at=START) is None
