"""What every query shares: the connection helper, keyset pages and ISO times."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Engine

from archive.errors import InvalidInput
from archive.schema import tables as t

Db = Engine | Connection
T = TypeVar("T")
A, AU, V, E, S, TR, R = (t.articles, t.article_urls, t.versions, t.events, t.schedules, t.tracked, t.runs)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 UTC with a Z, to the second.

    >>> from datetime import UTC
    >>> iso(datetime(2024, 12, 5, 9, 30, tzinfo=UTC))
    '2024-12-05T09:30:00Z'
    """
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


@contextmanager
def connected(db: Db) -> Iterator[Connection]:
    if isinstance(db, Connection):
        yield db
    else:
        with db.connect() as conn:
            yield conn


@dataclass
class Page(Generic[T]):
    """Some results, and the cursor for the ones after them (None at the end)."""

    items: list[T]
    next: str | None = None


def make_page(rows: Sequence[T], limit: int | None, key: Any) -> Page[T]:
    if limit is None or len(rows) <= limit:
        return Page(list(rows))
    return Page(list(rows[:limit]), "|".join("" if k is None else str(k) for k in key(rows[limit - 1])))


def cursor_values(after: str, *types: Any) -> list[Any]:
    parts = after.split("|")
    if len(parts) != len(types):
        raise InvalidInput(f"bad page cursor {after!r}; pass back the 'next' value of a page")
    try:
        return [None if p == "" else typ(p) for p, typ in zip(parts, types)]
    except ValueError as exc:
        raise InvalidInput(f"bad page cursor {after!r}; pass back the 'next' value of a page") from exc


def parse_when(text: str) -> datetime:
    return datetime.fromisoformat(text)
