"""The admin API's lists: `{"items": [...], "next_cursor": ...}`, `?limit=` (1 to 200, 50) and an
opaque `?cursor=` naming the last item of the page before, by the key the list is ordered by
(so a page stays right while rows are inserted before or after it)."""

import base64
import binascii
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from api.web.problems import ProblemError

T = TypeVar("T")
MAX_CURSOR_LENGTH = 1024
MAX_INT_KEY = 2**63 - 1

Limit = Annotated[int, Query(ge=1, le=200, description="Items per page, 1 to 200 (50).")]
DEFAULT_LIMIT = 50
Cursor = Annotated[
    str | None,
    Query(max_length=MAX_CURSOR_LENGTH, description="The `next_cursor` of the page before."),
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class BadCursor(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            400,
            slug="bad-cursor",
            title="Bad cursor",
            detail="This cursor is not one this list gave: start again without it.",
        )


def cursor_after(key: str | int) -> str:
    """The cursor of a page that ends at the item with this key."""
    return base64.urlsafe_b64encode(json.dumps({"after": key}).encode()).decode().rstrip("=")


def key_of(cursor: str | None, kind: type[str] | type[int]) -> str | int | None:
    """The key a cursor names (None without one); `BadCursor` if it is not one of ours."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)["after"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise BadCursor from None
    # A NUL is no key of ours, nor a number beyond 64 bits: the database would refuse them.
    if type(key) is not kind or (isinstance(key, str) and "\x00" in key):
        raise BadCursor
    if isinstance(key, int) and not 0 <= key <= MAX_INT_KEY:
        raise BadCursor
    return key


def page_of(items: list[T], *, limit: int, key: Callable[[T], str | int]) -> Page[T]:
    """A page of up to `limit` items from `items` (read with one more, to know whether a next
    page exists)."""
    shown = items[:limit]
    more = len(items) > limit
    return Page(items=shown, next_cursor=cursor_after(key(shown[-1])) if more else None)


def stamped_key(moment: datetime, item_id: str) -> str:
    """The key of an item in a list ordered by a time, then an id (for `cursor_after`)."""
    return f"{moment.isoformat()} {item_id}"


def stamp_of(cursor: str | None) -> tuple[datetime, str] | None:
    """The (time, id) a cursor of such a list names (None without one); `BadCursor` if it is
    not one of ours."""
    key = key_of(cursor, str)
    if key is None:
        return None
    assert isinstance(key, str)
    moment, _, item_id = key.partition(" ")
    try:
        stamp = datetime.fromisoformat(moment)
        if not item_id or stamp.tzinfo is None:
            raise BadCursor
        # In UTC, as stored: a time at the edge of the calendar does not fit there.
        return stamp.astimezone(UTC), item_id
    except (ValueError, OverflowError):
        raise BadCursor from None
