"""The Changes and Articles pages' filters, read from a query string and written back into links, and the
parameters any page takes: the reader's time zone (``tz``) and, on a diff, its view (``view``)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import click

from archive.vocab import LISTED_KINDS, ArticleStatus
from redline.options import parse_since
from redline.web.times import Clock, zone

PAGE_SIZE, MAX_PAGE_SIZE = 50, 200
VIEWS = ("changes", "full")  # a diff: the changed paragraphs with their neighbours, or the whole text
LONG = 12  # a diff of more paragraphs than this opens on the changed paragraphs only
FLAG = {"": True, "1": True, "0": False}  # ``first=0`` hides first captures


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
    first: bool = True          # changes only: list first captures (``first=0`` hides them)
    tz: str = ""                # the reader's time zone, as given, kept in every link

    def link(self, **changes: Any) -> str:
        """This filter's query string with some fields changed (``after`` is dropped unless given).

        >>> Filters(site="a.example", kinds=("headline",)).link(after="x"), Filters().link()
        ('?site=a.example&kind=headline&after=x', '')
        >>> Filters(first=False, tz="Europe/Paris").link()
        '?first=0&tz=Europe%2FParis'
        """
        f = replace(self, **{"after": "", **changes})
        pairs = [("site", f.site), *(("kind", k) for k in f.kinds), ("only", f.only), ("status", f.status),
                 ("since", f.since), ("until", f.until), ("q", f.q), ("first", "" if f.first else "0"),
                 ("limit", str(f.limit) if f.limit != PAGE_SIZE else ""), ("tz", f.tz), ("after", f.after)]
        query = urlencode([(k, v) for k, v in pairs if v])
        return "?" + query if query else ""

    def changes_query(self) -> dict[str, Any]:
        """Keyword arguments for :func:`archive.queries.changes`."""
        return {"site": self.site or None, "kinds": self.kinds, "stealth": self.only == "stealth",
                "declared": self.only == "declared", "since": parse_time(self.since, "since"),
                "until": parse_time(self.until, "until"), "search": self.q or None, "limit": self.limit,
                "after": self.after or None, "first_captures": self.first}

    def described(self) -> str:
        """What these filters keep, in words, for a feed's title.

        >>> Filters(site="example.com", kinds=("headline", "gone"), only="stealth", first=False).described()
        'changes on example.com, kinds headline, gone, stealth only, first captures hidden'
        >>> Filters(q="pact", since="7d", until="2024-12-06").described()
        'changes matching "pact", since 7d, until 2024-12-06'
        """
        said = "changes" + (f" on {self.site}" if self.site else "") + (f' matching "{self.q}"' if self.q else "")
        parts = [said] + ([f"kinds {', '.join(self.kinds)}"] if self.kinds else []) + \
            ([f"{self.only} only"] if self.only else []) + ([f"since {self.since}"] if self.since else []) + \
            ([f"until {self.until}"] if self.until else []) + ([] if self.first else ["first captures hidden"])
        return ", ".join(parts)

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
    if params.get("first", "") not in FLAG:
        raise BadRequest(f"bad first={params.get('first')!r}; use first=0 to hide first captures")
    try:
        limit = int(params.get("limit") or PAGE_SIZE)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise BadRequest(f"bad limit {params.get('limit')!r}; use a number from 1 to {MAX_PAGE_SIZE}")
    filters = Filters(params.get("site", "").strip(), kinds, only, status, params.get("since", "").strip(),
                      params.get("until", "").strip(), params.get("q", "").strip()[:200], limit,
                      params.get("after", ""), FLAG[params.get("first", "")], tz_name(params))
    filters.changes_query()  # bad times fail here, before any query
    return filters


def parse_time(text: str, name: str) -> datetime | None:
    if not text:
        return None
    try:
        return parse_since(text)
    except click.ClickException as exc:
        raise BadRequest(f"{name}: {exc.message}") from exc


def tz_name(params: Any) -> str:
    """The ``tz`` a page was given, checked (BadRequest names a zone that does not exist), or ""."""
    name = params.get("tz", "").strip()
    try:
        zone(name)
    except ValueError as exc:
        raise BadRequest(f"tz: {exc}") from exc
    return name


def clock(request: Any) -> Clock:
    """How a page says times: ``?tz=`` or ``serve --tz`` for the zone, the app's clock for "now"."""
    name = tz_name(request.query_params)
    state = request.app.state
    return Clock(state.now(), zone(name) if name else state.zone)


def view(params: Any, paragraphs: int) -> str:
    """A diff's view: ``?view=changes`` or ``full``; by default the changes only when the compared text
    has more than ``LONG`` paragraphs.

    >>> view({}, 13), view({}, 12), view({"view": "full"}, 40)
    ('changes', 'full', 'full')
    >>> view({"view": "short"}, 3)
    Traceback (most recent call last):
    redline.web.params.BadRequest: bad view='short'; use changes or full
    """
    given = params.get("view", "")
    if given and given not in VIEWS:
        raise BadRequest(f"bad view={given!r}; use {' or '.join(VIEWS)}")
    return given or ("changes" if paragraphs > LONG else "full")
