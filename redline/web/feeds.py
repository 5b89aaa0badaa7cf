"""Atom 1.0 feeds of changes (feedgen): all, per filter (the Changes page's parameters, so per site
too) and per article. Each entry links to its diff page (a takedown or restoration: the article's page)
and sums the change up in one line; a headline change's entry is titled old → new. A feed is titled by
its filter, and dated by its newest entry, or, empty, by the archive's newest record."""
from __future__ import annotations

import re
from datetime import datetime

from feedgen.feed import FeedGenerator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from archive import queries
from archive.queries import ChangeEntry
from redline.render import describe
from redline.web import params
from redline.web.pages import article

FEED_SIZE = 50
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")  # not allowed in XML 1.0


def routes() -> list[Route]:
    return [Route("/feed.atom", changes_feed), Route("/a/{article}/feed.atom", article_feed)]


def xml_text(text: str | None) -> str:
    """Text XML can carry: characters XML 1.0 forbids (control characters, U+FFFE) dropped.

    >>> xml_text("a\\x00b\\x1bc\\ufffe")
    'abc'
    """
    return NOT_XML.sub("", text or "")


def base(request: Request) -> str:
    """Where links in feeds point: ``--base-url``, else the address the request came to."""
    return (request.app.state.base_url or str(request.base_url)).rstrip("/")


def entry_link(root: str, c: ChangeEntry) -> str:
    """The diff page of a change (the version page of a first capture, the article's page of a takedown)."""
    if c.event is not None:
        return f"{root}/a/{c.short_id}"
    if c.previous is None:
        return f"{root}/a/{c.short_id}/v/{c.entry.version}"
    return f"{root}/a/{c.short_id}/diff/{c.previous}/{c.entry.version}"


def entry_title(v: queries.VersionEntry, url: str) -> str:
    """A version's headline; a changed headline as old → new, which a feed reader shows in its list."""
    head = v.change.headline if v.change else None
    if head is not None:
        return f"{head.old or '(no headline)'} → {head.new or '(no headline)'}"
    return v.title or url


def dated(request: Request) -> datetime:
    """When a feed with no entries was last updated: the archive's newest fetch, version or event, or for
    an archive with none yet, the time this server started (stable while it runs; never a made-up date)."""
    return queries.last_recorded(request.app.state.engine) or request.app.state.started


def atom(request: Request, title: str, html_path: str, changes: list[ChangeEntry], grouped: bool = False) -> Response:
    """The feed of ``changes``; ``grouped``: a site-wide edit is one entry, linking to its page."""
    root = base(request)
    self_url = root + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    fg = FeedGenerator()
    fg.id(self_url)
    fg.title(xml_text(title))
    fg.author({"name": "Redline"})
    fg.link(href=self_url, rel="self")
    fg.link(href=root + html_path, rel="alternate")
    fg.updated(changes[0].at if changes else dated(request))
    for c in changes:
        v = c.entry
        fe = fg.add_entry(order="append")
        group = v.change.site_wide if v.change and grouped and c.event is None else None
        link = f"{root}/site-wide/{group.group}" if group else entry_link(root, c)
        # one article page, many takedowns: each entry's id names its event and time, never a row id
        fe.id(link if c.event is None else f"{link}#{c.event.event}-{c.at:%Y%m%dT%H%M%S%fZ}")
        if group:  # one entry for the whole group, updated as members join it
            fe.title(xml_text(f"Site-wide edit: a paragraph {group.label}"))
            fe.summary(xml_text(f"{group.text} (newest: {v.title or c.url} v{v.version})"))
        elif c.event is None:
            fe.title(xml_text(f"{entry_title(v, c.url)} (v{v.version})"))
            fe.summary(xml_text(f"{c.host}: v{v.version}, "
                                f"{describe(v.change, v.recovered_at, v.fetched_url if v.from_other_url else None)}"))
        else:
            said = "taken down" if c.event.event == "gone" else "restored"
            fe.title(xml_text(f"{v.title or c.url} ({said})"))
            fe.summary(xml_text(f"{c.host}: {c.event.event}" + (f" ({c.event.detail})" if c.event.detail else "")
                                + f"; latest version then: v{v.version}"))
        fe.link(href=link, rel="alternate")
        fe.updated(c.at)
    return Response(fg.atom_str(pretty=True), media_type="application/atom+xml; charset=utf-8")


def changes_feed(request: Request) -> Response:
    """The Changes page as a feed, with the same filters (``?site=HOST`` for one site)."""
    filters = params.parse(request.query_params)
    query = {**filters.changes_query(), "limit": min(filters.limit, FEED_SIZE), "after": None}
    page = queries.changes(request.app.state.engine, **query, grouped=True)
    return atom(request, f"Redline: {filters.described()}", "/" + filters.link(), page.items, grouped=True)


def article_feed(request: Request) -> Response:
    """One article's versions, newest first."""
    db = request.app.state.engine
    with db.connect() as conn:
        ref, sid = article(conn, request)
        page = queries.changes(conn, article_id=ref.id, limit=FEED_SIZE)
    title = next((c.entry.title for c in page.items if c.entry.title), None) or ref.url
    return atom(request, f"Redline: {title}", f"/a/{sid}", page.items)
