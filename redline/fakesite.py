"""A realistic news site served on loopback, for the demo, the tests and the benchmark.

Pages wrap real article text (from ``fixtures/articles.json``, built from saved
copies of one story by five outlets) in the clutter real pages carry:
navigation, ads, scripts, a "most read" box, an in-body "Related article"
teaser, counters and per-request timestamps, all of which change between
requests without the article being edited.
"""
from __future__ import annotations

import hashlib
import html
import itertools
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

HEADLINES = [
    "Putin Pulls From Stalin's Playbook in Sending North Koreans Disguised as Buryats to Ukraine",
    "Havana Club rum dispute deepens after latest US law restricting Cuban trade",
    "Central bank holds rates as inflation cools for a third month",
    "Storm knocks out power to 200,000 homes along the coast",
    "Parliament approves budget after all-night session",
    "Chip maker shares slide on weaker-than-expected outlook",
    "Museum returns looted bronzes in landmark ceremony",
]


@dataclass
class Story:
    """One article's current state on the fake site; tests edit these fields between crawls."""

    slug: str
    site: str
    title: str
    byline: str
    published: str
    paragraphs: list[str]
    lang: str = "en"
    description: str | None = None
    updated: str | None = None
    show_updated: bool = True
    states_modified: bool = True  # the page states a modification time (its publication time until updated)
    footer: str | None = None


def published_now(stories: Iterable[Story]) -> None:
    """Make the stories state they were published now. Re-checks count an article's age from the time
    its page states; the bundled stories state dates in 2024, which puts them on the slow end of every
    re-check policy (the demo and the tests that watch quick re-checks want fresh news)."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for story in stories:
        story.published = now


def load_stories() -> list[Story]:
    """The bundled fixture stories, fresh copies each call."""
    raw = json.loads(resources.files("redline").joinpath("fixtures/articles.json").read_text("utf-8"))
    return [Story(**{k: v for k, v in item.items()}) for item in raw]


@dataclass
class Route:
    """What a path answers: a story, a status code, a redirect, or fixed content."""

    story: Story | None = None
    status: int = 200
    location: str | None = None
    body: str | bytes | None = None
    content_type: str = "text/html; charset=utf-8"


@dataclass
class FakeSite:
    """Mutable site state plus a threaded HTTP server bound to 127.0.0.1."""

    robots: str = "User-agent: *\nDisallow: /private/\n"
    template_block: str | None = None
    frozen: bool = False
    delay: float = 0.0  # seconds each story page takes to answer
    routes: dict[str, Route] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)  # requests, as they arrive
    served: list[str] = field(default_factory=list)  # paths of the responses written in full
    _counter: itertools.count = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    host: str = "127.0.0.1"

    def add(self, story: Story) -> str:
        self.routes["/" + story.slug] = Route(story=story)
        return self.url(story.slug)

    def url(self, slug: str) -> str:
        assert self._server is not None, "start() the site first"
        return f"http://{self.host}:{self._server.server_port}/{slug.lstrip('/')}"

    def story(self, slug: str) -> Story:
        story = self.routes["/" + slug].story
        assert story is not None
        return story

    def set_status(self, slug: str, status: int, location: str | None = None, body: str | None = None) -> None:
        route = self.routes.setdefault("/" + slug, Route())
        route.status, route.location, route.body = status, location, body

    def start(self, host: str = "127.0.0.1") -> FakeSite:
        self.host = host
        self._server = ThreadingHTTPServer((host, 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for entry in self.log if entry["path"] == path)

    def respond(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.log.append({"path": path, "headers": headers, "at": time.monotonic()})
            n = next(self._counter)
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, self.robots.encode()
        route = self.routes.get(path.split("?")[0])
        if route is None:
            return 404, {"Content-Type": "text/html"}, b"<html><body><h1>Not found</h1></body></html>"
        if route.location:
            return route.status, {"Location": route.location}, b""
        if route.body is not None or route.story is None or route.status != 200:
            body = route.body if route.body is not None else f"<html><body><h1>Error {route.status}</h1></body></html>"
            return route.status, {"Content-Type": route.content_type}, body if isinstance(body, bytes) else body.encode()
        if self.delay:
            time.sleep(self.delay)
        page = render(route.story, self.url(route.story.slug), 0 if self.frozen else n, self.template_block)
        return 200, {"Content-Type": route.content_type, **_validators(page)}, page.encode("utf-8")


def _validators(page: str) -> dict[str, str]:
    return {"ETag": '"' + hashlib.sha256(page.encode()).hexdigest()[:20] + '"'}


def _handler(site: FakeSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server naming)
            status, headers, body = site.respond(self.path, dict(self.headers))
            etag = headers.get("ETag")
            if etag and self.headers.get("If-None-Match") == etag:
                status, body = 304, b""
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            with site._lock:
                site.served.append(self.path)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def render(story: Story, url: str, n: int, template_block: str | None = None) -> str:
    """The full page for a story; ``n`` drives everything that changes per request."""
    esc = html.escape
    now = datetime(2024, 12, 5, 12, 0, tzinfo=UTC)
    teaser = HEADLINES[n % len(HEADLINES)]
    body = []
    for i, para in enumerate(story.paragraphs):
        short = len(para.split()) <= 8 and not para.rstrip().endswith((".", "\"", "”", ":"))
        body.append(f"<h2>{esc(para)}</h2>" if short else f"<p>{esc(para)}</p>")
        if i == 2:
            body.append(f'<p><strong>Related article:</strong> <a href="/related/{n % 97}">{esc(teaser)}</a></p>')
        if i == 4 and template_block:  # a promotion box, as sites mark them: the words are its link
            body.append(f'<p class="promo"><a href="/promo">{esc(template_block)}</a></p>')
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": story.title,
          "author": {"@type": "Person", "name": story.byline}, "datePublished": story.published,
          "publisher": {"@type": "Organization", "name": story.site}}
    # Like most CMSs, the page states a modification time from publication on (so an edit that leaves it
    # is stealth); a visible "Updated:" line appears only once the story is updated.
    modified = story.updated or (story.published if story.states_modified else None)
    meta_updated = ""
    if modified:
        ld["dateModified"] = modified
        meta_updated = f'<meta property="article:modified_time" content="{esc(modified)}">'
    visible_updated = ""
    if story.updated:
        if story.show_updated:
            visible_updated = f'<p class="updated">Updated: <time datetime="{esc(story.updated)}">' \
                              f'{esc(story.updated)}</time></p>'
    most_read = "".join(f'<li><a href="/most-read/{(n + k) % 50}">{esc(HEADLINES[(n + k) % len(HEADLINES)])}</a></li>'
                        for k in range(4))
    description = f'<meta name="description" content="{esc(story.description)}">' if story.description else ""
    footer = f"<p><em>{esc(story.footer)}</em></p>" if story.footer else ""
    return f"""<!DOCTYPE html>
<html lang="{story.lang}"><head><meta charset="utf-8">
<title>{esc(story.title)} | {esc(story.site)}</title>
<link rel="canonical" href="{esc(url)}">
<meta property="og:title" content="{esc(story.title)}"><meta property="og:site_name" content="{esc(story.site)}">
<meta property="og:url" content="{esc(url)}"><meta name="author" content="{esc(story.byline)}">
{description}
<meta property="article:published_time" content="{esc(story.published)}">{meta_updated}
<script type="application/ld+json">{json.dumps(ld)}</script>
<script>window.dataLayer = [{{"pageview": {n}, "ts": "{now.isoformat()}"}}];</script>
<style>body{{font-family:serif}} .ad{{height:250px}}</style>
</head><body>
<header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/politics">Politics</a>
<a href="/business">Business</a> <a href="/opinion">Opinion</a> <a href="/subscribe">Subscribe</a></nav></header>
<div class="ad" id="ad-top">Advertisement</div>
<main><article>
<h1>{esc(story.title)}</h1>
<p class="byline">By <a rel="author" href="/authors/{abs(hash(story.byline)) % 1000}">{esc(story.byline)}</a></p>
{visible_updated}
<div class="article-body">
<p>Published {n % 59 + 1} minutes ago</p>
{chr(10).join(body)}
{footer}
<p>{15000 + n * 31:,} views</p>
</div>
<div class="share"><a href="/share">Share</a> <span class="count">{1200 + n * 7:,} shares</span></div>
</article>
<aside class="most-read"><h3>Most read</h3><ul>{most_read}</ul></aside>
</main>
<div class="ad" id="ad-bottom">Advertisement</div>
<footer><p>&copy; 2024 {esc(story.site)}. All rights reserved.</p>
<p class="generated">Page generated at {now.isoformat()} in {n % 90 + 10} ms</p></footer>
<script src="/static/app.js?v={n}"></script>
</body></html>"""
