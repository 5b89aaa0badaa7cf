"""``/api/...``: the CLI's JSON (README, "JSON contract") for list, log, show and diff, byte for byte.

Parameters mirror the command line: ``/api/log?url=URL&stealth=1&declared=1&all=1``,
``/api/show?url=URL&version=N``, ``/api/diff?url=URL&old=N&new=N&with_noise=1``,
``/api/list?changed_since=7d``, ``/api/search?q=WORDS&site=HOST&since=7d&removed=1``.
"""
from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from archive import queries
from archive.queries import json_shapes
from redline.web.params import BadRequest, parse_time


def routes() -> list[Route]:
    return [Route("/api/list", api_list), Route("/api/log", api_log), Route("/api/show", api_show),
            Route("/api/diff", api_diff), Route("/api/search", api_search)]


def _json(data: Any) -> Response:
    """As ``redline ... --json`` prints it."""
    return Response(json.dumps(data, ensure_ascii=False, indent=2) + "\n", media_type="application/json")


def _url(request: Request) -> str:
    url = request.query_params.get("url")
    if not url:
        raise BadRequest("missing url parameter; give the article's http(s) URL, as to 'redline log URL'")
    return url


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "") not in ("", "0", "false")


def _number(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise BadRequest(f"bad {name} {value!r}; give a version number") from exc


def api_list(request: Request) -> Response:
    since = parse_time(request.query_params.get("changed_since", ""), "changed_since")
    rows = queries.list_articles(request.app.state.engine, changed_since=since).items
    return _json([json_shapes.article(a) for a in rows])


def api_log(request: Request) -> Response:
    url, stealth, declared, every = _url(request), _flag(request, "stealth"), _flag(request, "declared"), \
        _flag(request, "all")
    with request.app.state.engine.connect() as conn:
        versions = queries.versions(conn, url, stealth=stealth, declared=declared).items
        with_events = every or _flag(request, "events")  # as 'log --json' (versions only), '--events', '--all'
        events = [] if stealth or declared or not with_events else queries.events(conn, url).items
        fetches = queries.fetches(conn, url) if every else []
        related = queries.related(conn, queries.article(conn, url)) if every else None
    return _json(json_shapes.full_log(versions, events, fetches, related) if related else
                 json_shapes.log(versions, events))


def api_show(request: Request) -> Response:
    return _json(json_shapes.show(queries.show(request.app.state.engine, _url(request), _number(request, "version"))))


def api_diff(request: Request) -> Response:
    old, new = _number(request, "old"), _number(request, "new")
    if old is not None and new is None:
        new = -1
    result = queries.diff(request.app.state.engine, _url(request), old, new, with_noise=_flag(request, "with_noise"))
    return _json(json_shapes.diff(result))


def api_search(request: Request) -> Response:
    q = request.query_params.get("q", "")
    if not q.strip():
        raise BadRequest("missing q parameter; give the words to search for, as to 'redline search'")
    since = parse_time(request.query_params.get("since", ""), "since")
    hits = queries.search(request.app.state.engine, q, site=request.query_params.get("site") or None, since=since,
                          removed=_flag(request, "removed"))
    return _json([json_shapes.search_hit(h) for h in hits])
