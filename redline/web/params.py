"""The Changes and Articles pages' filters, read from a query string and written back into links."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import click

from archive.vocab import LISTED_KINDS, ArticleStatus
from redline.options import parse_since

PAGE_SIZE, MAX_PAGE_SIZE = 50, 200


class BadRequest(Exception):
    """A query parameter that cannot be used; the message names it."""


@dataclass(frozen=True)
class Filters:
    """What the user asked for, as given (``since``/``until`` keep their text for the form and links)."""

    site: str = ""
    kinds: tuple[str, ...] = ()
    only: str = ""              # "", "stealth" or "declared"
    status: str = ""            # articles only
    since: str = ""
    until: str = ""
    q: str = ""
    limit: int = PAGE_SIZE
    after: str = ""

    def link(self, **changes: Any) -> str:
        """This filter's query string with some fields changed (``after`` is dropped unless given).

        >>> Filters(site="a.example", kinds=("headline",)).link(after="x"), Filters().link()
        ('?site=a.example&kind=headline&after=x', '')
        """
        f = replace(self, **{"after": "", **changes})
        pairs = [("site", f.site), *(("kind", k) for k in f.kinds), ("only", f.only), ("status", f.status),
                 ("since", f.since), ("until", f.until), ("q", f.q),
                 ("limit", str(f.limit) if f.limit != PAGE_SIZE else ""), ("after", f.after)]
        query = urlencode([(k, v) for k, v in pairs if v])
        return "?" + query if query else ""

    def changes_query(self) -> dict[str, Any]:
        """Keyword arguments for :func:`archive.queries.changes`."""
        return {"site": self.site or None, "kinds": self.kinds, "stealth": self.only == "stealth",
                "declared": self.only == "declared", "since": parse_time(self.since, "since"),
                "until": parse_time(self.until, "until"), "search": self.q or None, "limit": self.limit,
                "after": self.after or None}

    def articles_query(self) -> dict[str, Any]:
        """Keyword arguments for :func:`archive.queries.list_articles`."""
        return {"site": self.site or None, "status": self.status or None, "changed_since": parse_time(self.since, "since"),
                "search": self.q or None, "limit": self.limit, "after": self.after or None}


def parse(params: Any) -> Filters:
    """Filters from a query string (Starlette's ``QueryParams``), or BadRequest naming the bad one.

    >>> from starlette.datastructures import QueryParams
    >>> parse(QueryParams("kind=nonsense"))
    Traceback (most recent call last):
    redline.web.params.BadRequest: unknown kind 'nonsense'; use one of headline, byline, body-edit, \
paragraph-added, paragraph-removed, correction, declared-update-only, site-wide, gone, restored
    """
    kinds = tuple(params.getlist("kind"))
    for kind in kinds:
        if kind not in LISTED_KINDS:
            raise BadRequest(f"unknown kind {kind!r}; use one of {', '.join(LISTED_KINDS)}")
    only, status = params.get("only", ""), params.get("status", "")
    if only not in ("", "stealth", "declared"):
        raise BadRequest(f"bad only={only!r}; use stealth or declared")
    if status and status not in set(ArticleStatus):
        raise BadRequest(f"unknown status {status!r}; use one of {', '.join(ArticleStatus)}")
    try:
        limit = int(params.get("limit") or PAGE_SIZE)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise BadRequest(f"bad limit {params.get('limit')!r}; use a number from 1 to {MAX_PAGE_SIZE}")
    filters = Filters(params.get("site", "").strip(), kinds, only, status, params.get("since", "").strip(),
                      params.get("until", "").strip(), params.get("q", "").strip()[:200], limit,
                      params.get("after", ""))
    filters.changes_query()  # bad times fail here, before any query
    return filters


def parse_time(text: str, name: str) -> datetime | None:
    if not text:
        return None
    try:
        return parse_since(text)
    except click.ClickException as exc:
        raise BadRequest(f"{name}: {exc.message}") from exc
