"""The HTML pages: Changes, Articles, an article's timeline, one version, a diff, and search."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from archive import queries
from archive.queries.screenshots import screenshot_image, screenshots
from archive.vocab import LISTED_KINDS, ArticleStatus, FetchOutcome
from redline.web import diffview, params
from redline.web.templating import diff_context


def routes() -> list[Route]:
    return [Route("/", changes), Route("/articles", articles), Route("/a/{article}", timeline),
            Route("/a/{article}/v/{number:int}", version),
            Route("/a/{article}/v/{number:int}/screenshot", screenshot),
            Route("/a/{article}/diff/{old:int}/{new:int}", diff), Route("/a/{article}/compare", compare),
            Route("/search", search), Route("/site-wide/{group:int}", site_wide)]


def article(conn: Any, request: Request) -> tuple[queries.ArticleRef, str]:
    """The article a page's ``/a/ID`` names, by its short ID (as ``redline list`` shows it), and that ID."""
    given = request.path_params["article"]
    if not queries.is_short_id(given):
        raise HTTPException(404, f"no article ID {given}; article IDs are hex digits, as 'redline list' shows")
    ref = queries.article(conn, given)
    return ref, queries.short_id(conn, ref)


def _render(request: Request, name: str, **context: Any) -> Response:
    """A page, its times said by the request's clock (``?tz=`` or ``serve --tz``)."""
    return request.app.state.render(name, clock=params.clock(request), **context)


def changes(request: Request) -> Response:
    """The newest changes across the archive (versions, takedowns and restorations), filtered, one keyset
    page at a time."""
    filters = params.parse(request.query_params)
    page = queries.changes(request.app.state.engine, **filters.changes_query(), grouped=True)
    return _render(request, "changes.html", filters=filters, page=page, kinds=list(LISTED_KINDS))


def articles(request: Request) -> Response:
    """Every article with its status and dates, most recently changed first."""
    filters = params.parse(request.query_params)
    page = queries.list_articles(request.app.state.engine, **filters.articles_query())
    return _render(request, "articles.html", filters=filters, page=page, statuses=list(ArticleStatus))


def search(request: Request) -> Response:
    """Versions whose title, byline or text contain the words asked for (``removed=1``: no longer)."""
    q, site = request.query_params.get("q", "").strip(), request.query_params.get("site", "").strip()
    removed = request.query_params.get("removed", "") not in ("", "0")
    hits = queries.search(request.app.state.engine, q, site=site or None, removed=removed) if q else []
    return _render(request, "search.html", q=q, site=site, removed=removed, hits=hits)


@dataclass(frozen=True)
class Moment:
    """One line of a timeline: a version (with the one captured before it), an event or a fetch."""

    at: datetime
    kind: str                   # "version", "event" or "fetch"
    item: Any
    previous: int | None = None


def timeline(request: Request) -> Response:
    """All versions, fetch events and fetches of one article, oldest first."""
    db = request.app.state.engine
    with db.connect() as conn:
        ref, sid = article(conn, request)
        history = queries.log(conn, ref.url)
        fetches = queries.fetches(conn, ref.url)
        related = queries.related(conn, ref)
    moments = [Moment(v.captured_at, "version", v, history.versions[i - 1].version if i else None)
               for i, v in enumerate(history.versions)]
    moments += [Moment(e.at, "event", e) for e in history.events] + [Moment(f.at, "fetch", f) for f in fetches]
    order = {"version": 0, "event": 1, "fetch": 2}
    moments.sort(key=lambda m: (m.at, order[m.kind]))
    title = next((v.title for v in reversed(history.versions) if v.version == ref.latest), None)
    return _render(request, "timeline.html", ref=ref, sid=sid, title=title, moments=moments, versions=history.versions,
                   noise_only=FetchOutcome.NOISE_ONLY, related=related)


def version(request: Request) -> Response:
    """One version's text as captured, with its provenance; ``?noise=1`` dims the noise paragraphs."""
    db = request.app.state.engine
    with db.connect() as conn:
        ref, sid = article(conn, request)
        found = queries.capture(conn, ref.url, request.path_params["number"])
        order = [v.version for v in queries.versions(conn, ref.url).items]  # in capture order, as log lists them
        shot = screenshots(conn, ref.id, [found.detail.version]).get(found.detail.version)
    at = order.index(found.detail.version)
    previous, following = (order[at - 1] if at else None), (order[at + 1] if at + 1 < len(order) else None)
    return _render(request, "version.html", ref=ref, sid=sid, c=found, noise=request.query_params.get("noise") == "1",
                   previous=previous, following=following, shot=shot)


def screenshot(request: Request) -> Response:
    """A version's screenshot, as stored: an image with its own type, never anything a browser would run."""
    number = request.path_params["number"]
    db = request.app.state.engine
    with db.connect() as conn:
        ref, _sid = article(conn, request)
        shot = screenshots(conn, ref.id, [number]).get(number)
        if shot is None:
            raise HTTPException(404, f"version {number} of this article has no screenshot")
        image = screenshot_image(conn, shot.id)
    return Response(image, media_type=shot.media_type, headers={"Cache-Control": "public, max-age=31536000, immutable",
                                                               "Content-Disposition": "inline"})


def diff(request: Request) -> Response:
    """Two versions compared: headline, byline and dates, the changes recorded between them (kinds,
    declared or stealth, as ``log`` says them), a permalink and a citation line, then the text paragraph by
    paragraph (``?view=changes``: the changed paragraphs only, the default for long texts; ``full``)."""
    db = request.app.state.engine
    old, new = request.path_params["old"], request.path_params["new"]
    noise = request.query_params.get("noise") == "1"
    asked = params.view(request.query_params, 0) if request.query_params.get("view") else ""  # 400 before reading
    tz = params.tz_name(request.query_params)
    with db.connect() as conn:
        ref, sid = article(conn, request)
        d = queries.diff(conn, ref.url, old, new, with_noise=noise)
        order = queries.versions(conn, ref.url).items  # in capture order, as log lists them
        shots = screenshots(conn, ref.id, [d.old.version, d.new.version])
    numbers = [v.version for v in order]
    steps = order[numbers.index(d.old.version) + 1:numbers.index(d.new.version) + 1]
    path = f"/a/{sid}/diff/{d.old.version}/{d.new.version}"
    permalink = (request.app.state.base_url or "").rstrip("/") + path

    def href(**changes: str) -> str:
        """This page's address with some of its parameters changed."""
        query = urlencode([(k, v) for k, v in {"noise": "1" if noise else "", "view": asked, "tz": tz,
                                                **changes}.items() if v])
        return path + (f"?{query}" if query else "")

    cite = diffview.citation(ref.host, d, permalink)
    return _render(request, "diff.html", ref=ref, sid=sid, steps=steps, permalink=permalink, cite=cite, href=href,
                   shots=shots, **diff_context(d, params.view(request.query_params, len(d.paragraphs))))


def site_wide(request: Request) -> Response:
    """A site-wide edit: the paragraph, and every article's version of it with its diff."""
    from archive.queries.sitewide import site_wide as group

    found = group(request.app.state.engine, request.path_params["group"])
    return _render(request, "sitewide.html", g=found)


def compare(request: Request) -> Response:
    """The timeline's "compare any two versions" form, sent on to the diff's permalink."""
    try:
        old, new = int(request.query_params["old"]), int(request.query_params["new"])
    except (KeyError, ValueError) as exc:
        raise params.BadRequest("give two version numbers to compare, as old=N and new=M") from exc
    tz = params.tz_name(request.query_params)  # the reader's zone carries over to the diff
    query = f"?{urlencode({'tz': tz})}" if tz else ""
    return RedirectResponse(f"/a/{request.path_params['article']}/diff/{old}/{new}{query}", 303)
