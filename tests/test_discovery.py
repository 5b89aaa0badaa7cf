"""Discovery of article URLs from feeds and sitemaps: parsing, hostile documents, and real crawls."""
from __future__ import annotations

import gzip
import json
import socket
import struct
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from archive.capture import Found
from redline.fakesite import FakeSite, Route
from scraper.feeds import FeedError, parse
from tests.conftest import FAST

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
<channel><title>World news</title><link>https://news.example/</link>
 <atom:link href="https://news.example/feeds/world.xml" rel="self" type="application/rss+xml"/>
 <item><title>Storm</title><atom:link rel="self" href="/world/storm.rss"/><link>/world/storm?ref=rss#comments</link>
  <pubDate>Thu, 05 Dec 2024 10:14:00 -0500</pubDate><dc:date>2024-12-05T18:00:00Z</dc:date></item>
 <item><title>Budget</title><guid isPermaLink="true">https://news.example/politics/budget</guid>
  <pubDate>Wed, 04 Dec 2024 23:00:00 GMT</pubDate></item>
 <item><title>Rates</title><link>https://news.example/business/rates</link><pubDate>someday</pubDate></item>
 <item><title>Storm again</title><link>https://news.example/world/storm?ref=rss</link>
  <pubDate>Mon, 02 Dec 2024 08:00:00 GMT</pubDate></item>
 <item><title>Junk</title><link>#top</link></item>
 <item><title>Script</title><link>javascript:alert(1)</link></item>
 <item><title>Opaque guid</title><guid isPermaLink="false">tag:news.example,2024:42</guid></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://news.example/en/">
 <title>Latest</title><updated>2024-12-06T00:00:00Z</updated>
 <entry><title>Chips</title><link rel="enclosure" href="/img/chips.jpg"/><link href="business/chips"/>
  <published>2024-12-05T09:00:00+01:00</published><updated>2024-12-05T11:30:00+01:00</updated></entry>
 <entry xml:base="culture/"><title>Bronzes</title><link rel="alternate" type="text/html" href="bronzes"/>
  <published>2024-12-05</published></entry>
 <entry><title>No date</title><link href="../opinion/column"/></entry>
</feed>"""

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
 <channel rdf:about="https://news.example/rdf"><title>RDF</title></channel>
 <item rdf:about="https://news.example/rdf/one"><title>One</title><link>https://news.example/rdf/one</link>
  <dc:date>2024-12-05T10:00:00+09:00</dc:date></item>
 <item rdf:about="https://news.example/rdf/two"><title>Two</title></item>
</rdf:RDF>"""

JSON_FEED = json.dumps({
    "version": "https://jsonfeed.org/version/1.1", "title": "JSON news", "items": [
        {"id": "1", "url": "https://news.example/json/one", "date_published": "2024-12-05T10:00:00-08:00",
         "date_modified": "2024-12-06T10:00:00-08:00"},
        {"id": "2", "url": "json/two", "date_published": "2024-12-05T10:00:00"},
        {"id": "3", "content_text": "no url"},
        {"id": "4", "url": "ftp://news.example/file"},
    ]}).encode()

NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
 <url><loc>https://news.example/world/storm</loc><lastmod>2024-12-05T12:00:00+00:00</lastmod>
  <news:news><news:publication>
   <news:name>Example</news:name><news:language>en</news:language></news:publication>
   <news:publication_date>2024-12-05T14:00:00+00:00</news:publication_date>
   <news:title>Storm</news:title></news:news></url>
 <url><loc>https://news.example/politics/budget</loc><lastmod>2024-12-04</lastmod></url>
 <url><loc> https://news.example/business/rates </loc></url>
</urlset>"""


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def by_url(found: list[Found]) -> dict[str, datetime | None]:
    return {f.url: f.hint for f in found}


def index(*children: tuple[str, str | None]) -> bytes:
    """A sitemap index listing ``(loc, lastmod)`` children."""
    entries = "".join(f"<sitemap><loc>{loc}</loc>{f'<lastmod>{mod}</lastmod>' if mod else ''}</sitemap>"
                      for loc, mod in children)
    return f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>'.encode()


def urlset(*urls: str) -> bytes:
    entries = "".join(f"<url><loc>{url}</loc><lastmod>2024-12-0{n % 9 + 1}</lastmod></url>"
                      for n, url in enumerate(urls))
    return f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'.encode()


# --- parsing realistic documents -------------------------------------------------------------------------------

def test_rss_rfc822_dates_relative_links_and_dedup() -> None:
    document = parse(RSS, "https://news.example/feeds/world.xml")
    assert document.kind == "feed" and document.sitemaps == []
    assert by_url(document.found) == {
        "https://news.example/world/storm?ref=rss": utc(2024, 12, 5, 18, 0),  # dc:date is newer than pubDate
        "https://news.example/politics/budget": utc(2024, 12, 4, 23, 0),
        "https://news.example/business/rates": None,
    }
    assert {f.source for f in document.found} == {"feed"}


def test_atom_relative_links_resolve_against_xml_base() -> None:
    document = parse(ATOM, "https://news.example/feeds/atom.xml")
    assert by_url(document.found) == {
        "https://news.example/en/business/chips": utc(2024, 12, 5, 10, 30),
        "https://news.example/en/culture/bronzes": utc(2024, 12, 5),
        "https://news.example/opinion/column": None,
    }


def test_rss_1_0_rdf() -> None:
    document = parse(RDF, "https://news.example/rdf")
    assert by_url(document.found) == {"https://news.example/rdf/one": utc(2024, 12, 5, 1, 0),
                                      "https://news.example/rdf/two": None}


def test_json_feed() -> None:
    document = parse(JSON_FEED, "https://news.example/feed.json")
    assert by_url(document.found) == {"https://news.example/json/one": utc(2024, 12, 6, 18, 0),
                                      "https://news.example/json/two": utc(2024, 12, 5, 10, 0)}


def test_news_sitemap_takes_newest_of_lastmod_and_publication_date() -> None:
    document = parse(NEWS_SITEMAP, "https://news.example/sitemap-news.xml")
    assert document.kind == "sitemap"
    assert by_url(document.found) == {"https://news.example/world/storm": utc(2024, 12, 5, 14, 0),
                                      "https://news.example/politics/budget": utc(2024, 12, 4),
                                      "https://news.example/business/rates": None}
    assert {f.source for f in document.found} == {"sitemap"}


def test_sitemap_index_and_gzipped_child() -> None:
    document = parse(index(("https://news.example/s/1.xml.gz", "2024-12-05T10:00:00Z"),
                           ("https://news.example/s/2.xml", None)), "https://news.example/sitemap.xml")
    assert document.kind == "sitemapindex" and document.found == []
    assert by_url(document.sitemaps) == {"https://news.example/s/1.xml.gz": utc(2024, 12, 5, 10, 0),
                                         "https://news.example/s/2.xml": None}
    child = parse(gzip.compress(NEWS_SITEMAP), "https://news.example/s/1.xml.gz")
    assert child.found == parse(NEWS_SITEMAP, "https://news.example/s/1.xml").found


# --- hostile documents -----------------------------------------------------------------------------------------

def billion_laughs(depth: int) -> bytes:
    entities = '<!ENTITY lol0 "lol">' + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">'
                                                  for i in range(1, depth + 1))
    return (f'<?xml version="1.0"?><!DOCTYPE rss [{entities}]><rss><channel><item><title>&lol{depth};</title>'
            f'<link>https://news.example/&lol{depth};</link></item></channel></rss>').encode()


@pytest.mark.timeout(60)  # a hang guard, not a speed target: an expanding parser would never finish
@pytest.mark.parametrize("depth", [9, 2])  # 10^9 "lol"s, and a small expansion libxml2's own limit lets through
def test_billion_laughs_is_rejected_without_expansion(depth: int) -> None:
    with pytest.raises(FeedError, match=r"^https://news.example/lol.xml: .*entities"):
        parse(billion_laughs(depth), "https://news.example/lol.xml")


@pytest.fixture
def evil() -> Iterator[FakeSite]:
    """A loopback site serving a hostile DTD and a secret, to catch any fetch by the parser."""
    site = FakeSite().start()
    site.routes["/evil.dtd"] = Route(body='<!ENTITY secret SYSTEM "file:///etc/passwd">', content_type="text/plain")
    site.routes["/secret"] = Route(body="TOPSECRET", content_type="text/plain")
    yield site
    site.stop()


def xxe_documents(site: FakeSite) -> list[bytes]:
    body = '<rss><channel><item><title>&x;</title><link>https://news.example/&x;</link></item></channel></rss>'
    return [f'<?xml version="1.0"?><!DOCTYPE rss [{decl}]>{body}'.encode() for decl in (
        '<!ENTITY x SYSTEM "file:///etc/passwd">',
        f'<!ENTITY x SYSTEM "{site.url("secret")}">',
        f'<!ENTITY % p SYSTEM "{site.url("evil.dtd")}"> %p;',
    )] + [f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{site.url("evil.dtd")}">{body}'.encode()]


def test_xxe_is_neither_read_nor_fetched(evil: FakeSite) -> None:
    outcomes = []
    for document in xxe_documents(evil):
        try:
            outcomes.append(repr(parse(document, "https://news.example/xxe.xml")))
        except FeedError as exc:
            outcomes.append(str(exc))
    assert [o for o in outcomes if "root:" in o or "TOPSECRET" in o] == []
    assert outcomes[-1].startswith("Document(kind='feed'")  # an external DTD alone is ignored, not fatal
    assert sum("declares XML entities" in o for o in outcomes) == 3
    assert evil.log == []


def gzip_bomb(gib: int = 1) -> bytes:
    """A valid gzip file of ``gib`` GiB of zeros, about 1 MB in size."""
    mib = b"\0" * (1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = compressor.compress(mib) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(1024 * gib):
        crc = zlib.crc32(mib, crc)
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + segment * 1024 * gib + end
            + struct.pack("<II", crc, (gib << 30) & 0xFFFFFFFF))


@pytest.mark.timeout(60)  # a hang guard: the cap is asserted by the error, not by speed
def test_gzip_bomb_is_capped() -> None:
    bomb = gzip_bomb()
    assert len(bomb) < 1_100_000 and zlib.decompressobj(31).decompress(bomb, 1 << 20) == b"\0" * (1 << 20)
    with pytest.raises(FeedError, match=r"^https://news.example/s.xml.gz: too large \(over 52428800 bytes"):
        parse(bomb, "https://news.example/s.xml.gz")


def test_oversized_document_is_rejected() -> None:
    with pytest.raises(FeedError, match=r"^https://news.example/big.xml: too large \(\d+ bytes, limit 4096\)"):
        parse(urlset(*(f"https://news.example/{n}" for n in range(200))), "https://news.example/big.xml",
              max_bytes=4096)
    with pytest.raises(FeedError, match="too large"):
        parse(gzip.compress(b" " * 5000), "https://news.example/big.xml.gz", max_bytes=4096)


@pytest.mark.parametrize("body", [
    b"", b"   \n", b"hello, world", b"\x00\x01\x02garbage", b"<html><body><p>Not a feed</p></body></html>",
    b'{"title": "plain JSON"}', b"{not json", b'{"a":' * 100_000, b"[" * 100_000, b"\x1f\x8b\x08 truncated gzip",
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
])
def test_garbage_raises_feed_error_naming_the_url(body: bytes) -> None:
    with pytest.raises(FeedError) as caught:
        parse(body, "https://news.example/x")
    message = str(caught.value)
    assert message.startswith("https://news.example/x: ") and "\n" not in message


# --- the real spider against a loopback site --------------------------------------------------------------------

def run_discover(feeds: list[str], sitemaps: list[str],
                 settings: dict[str, str] | None = None) -> tuple[dict[str, tuple[str, str | None]], list[str]]:
    """A schedule watching ``feeds`` and ``sitemaps`` run by the production crawl child (``python -m
    scraper``) without fetching what is due: {tracked url: (source, hint)}, the run's problems."""
    from sqlalchemy import select

    from archive.clock import utcnow
    from archive.crawls import CrawlRequest, CrawlResult
    from archive.schema.db import open_engine
    from archive.schema.tables import tracked
    from archive.watch import schedules

    with tempfile.TemporaryDirectory() as folder:
        db_url = f"sqlite:///{folder}/archive.db"
        engine = open_engine(db_url, writer=True)
        try:
            schedules.add(engine, schedules.JobSpec(name="d", every_seconds=60, feeds=feeds, sitemaps=sitemaps,
                                                    settings={**FAST, **(settings or {})}), utcnow())
            request = CrawlRequest(db_url, schedule="d", fetch_due=False)
            done = subprocess.run([sys.executable, "-m", "scraper"], input=request.to_json(), capture_output=True,
                                  text=True, timeout=120, check=False)
            assert done.returncode == 0, done.stderr
            result = CrawlResult.from_json(done.stdout)
            assert result.outcomes == {}, "nothing is fetched without fetch_due"
            with engine.connect() as conn:
                rows = conn.execute(select(tracked.c.url, tracked.c.source, tracked.c.hint)).all()
        finally:
            engine.dispose()
    return {url: (source, hint and hint.isoformat()) for url, source, hint in rows}, result.problems


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(site: FakeSite, path: str, body: bytes, content_type: str = "application/xml") -> str:
    site.routes[path] = Route(body=body, content_type=content_type)
    return site.url(path)


def test_spider_discovers_from_feeds_and_sitemap_indexes(site: FakeSite) -> None:
    u = site.url
    rss = serve(site, "/feeds/world.xml", RSS.replace(b"https://news.example", u("").rstrip("/").encode()))
    atom = serve(site, "/feeds/atom.xml", ATOM.replace(b"https://news.example", u("").rstrip("/").encode()))
    as_feed = serve(site, "/feeds/really-a-sitemap.xml", urlset(u("from-sitemap-given-as-feed")))
    top = serve(site, "/sitemap.xml", index((u("sitemap.xml"), None), (u("s/news.xml.gz"), "2024-12-05"),
                                            (u("s/inner-index.xml"), None), (u("s/missing.xml"), None)))
    serve(site, "/s/news.xml.gz", gzip.compress(NEWS_SITEMAP.replace(b"https://news.example", u("").rstrip("/")
                                                                     .encode())), "application/x-gzip")
    serve(site, "/s/inner-index.xml", index((u("sitemap.xml"), None), (u("s/plain.xml"), None)))
    serve(site, "/s/plain.xml", urlset(u("world/storm"), u("plain/one")))
    html = serve(site, "/feeds/page.html", b"<html><body><p>Subscribe!</p></body></html>", "text/html")
    private = serve(site, "/private/feed.xml", RSS)
    unreachable = f"http://127.0.0.1:{closed_port()}/feed.xml"
    big = serve(site, "/big.xml", urlset(*(u(f"big/{n}") for n in range(100))))
    bomb = serve(site, "/bomb.xml.gz", gzip.compress(b" " * 100_000), "application/gzip")

    found, problems = run_discover([rss, atom, as_feed, html, private, unreachable], [top, big, bomb],
                                   {"DOWNLOAD_MAXSIZE": "5000"})

    assert found.pop(u("business/rates"))[1] is None  # in the feed and the sitemap, neither with a date
    assert found == {
        u("world/storm?ref=rss"): ("feed", "2024-12-05T18:00:00+00:00"),
        u("politics/budget"): ("feed", "2024-12-04T23:00:00+00:00"),  # also in the news sitemap, older there
        u("en/business/chips"): ("feed", "2024-12-05T10:30:00+00:00"),
        u("en/culture/bronzes"): ("feed", "2024-12-05T00:00:00+00:00"),
        u("opinion/column"): ("feed", None),
        u("from-sitemap-given-as-feed"): ("sitemap", "2024-12-01T00:00:00+00:00"),
        u("world/storm"): ("sitemap", "2024-12-05T14:00:00+00:00"),
        u("plain/one"): ("sitemap", "2024-12-02T00:00:00+00:00"),
    }
    refused = [p for p in problems if p.startswith(f"{unreachable}: unreachable (") and "refused" in p]
    too_big = [p for p in problems if p.startswith(f"{big}: too large (") and "5000" in p]
    assert len(refused) == len(too_big) == 1
    assert sorted(problems) == sorted([
        *refused,
        *too_big,
        f"{html}: neither a feed nor a sitemap (root element <html>)",
        f"{bomb}: too large (over 5000 bytes after gunzip)",
        f"{private}: forbidden by robots.txt",
        f"{u('s/missing.xml')}: HTTP 404",
        f"{top}: loop skipped, already fetched (listed again by {top})",
        f"{top}: loop skipped, already fetched (listed again by {u('s/inner-index.xml')})",
    ])
    fetched = [entry["path"] for entry in site.log if entry["path"] != "/robots.txt"]
    assert sorted(fetched) == sorted(["/feeds/world.xml", "/feeds/atom.xml", "/feeds/really-a-sitemap.xml",
                                      "/feeds/page.html", "/sitemap.xml", "/s/news.xml.gz", "/s/inner-index.xml",
                                      "/s/missing.xml", "/s/plain.xml", "/big.xml", "/bomb.xml.gz"])


def test_spider_caps_depth_files_and_urls(site: FakeSite) -> None:
    u = site.url
    top = serve(site, "/top.xml", index((u("c1.xml"), None), (u("c2.xml"), None), (u("deep1.xml"), None),
                                        (u("c3.xml"), None)))
    for n in (1, 2, 3):
        serve(site, f"/c{n}.xml", urlset(*(u(f"c{n}/{k}") for k in range(3))))
    serve(site, "/deep1.xml", index((u("deep2.xml"), None)))
    serve(site, "/deep2.xml", urlset(u("too/deep")))

    found, problems = run_discover([], [top], {"REDLINE_SITEMAP_MAX_DEPTH": "1", "REDLINE_SITEMAP_MAX_FILES": "3",
                                               "REDLINE_DISCOVER_MAX_URLS": "4"})

    assert len(found) == 4 and all(url.startswith((u("c1/"), u("c2/"))) for url in found)
    assert sorted(problems) == sorted([
        f"{u('c3.xml')}: skipped, cap of 3 sitemap files reached (listed by {top})",
        f"{u('deep2.xml')}: skipped, sitemap depth limit 1 reached (listed by {u('deep1.xml')})",
        "cap of 4 URLs reached; further URLs ignored",
    ])
    assert site.hits("/c3.xml") == site.hits("/deep2.xml") == 0
