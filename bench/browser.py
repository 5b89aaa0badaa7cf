"""Fetching through a browser (issue 26, item 4): pages per second and the crawl tree's peak memory.

The suite's cached real pages are served on loopback twice: as shipped, and as script-rendered copies
(:mod:`bench.scripted`: the body moved into a script that writes it into the DOM). The static copies are
crawled with ``--render never``; the script-rendered ones with ``--render auto``, so each is fetched
statically, found to be an app shell and loaded again in Chromium. Each crawl is the real ``redline
crawl`` in a child process, its memory sampled over the whole process tree (the browser's processes
included). Wall times include each crawl's start-up (about a second) and, for the browser, its launch.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import proc, realpages
from bench.corpus import HOSTS, BenchSite
from bench.scripted import script_rendered


def _serve(pages: list[realpages.RealPage], scripted: bool) -> tuple[list[BenchSite], list[str]]:
    """Each page once, over the bench's hosts, as shipped or script-rendered."""
    sites = [BenchSite().start(host=h) for h in HOSTS]
    urls = []
    for i, page in enumerate(pages):
        site = sites[i % len(sites)]
        path = f"/news/{i:05d}/{page.slug}"
        html = realpages.point_at(page.html, site.url(path))
        body = (script_rendered(html) if scripted else html or "").encode("utf-8")
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        site.pages[path] = ({"Content-Type": "text/html; charset=utf-8", "ETag": etag}, body)
        urls.append(site.url(path))
    return sites, urls


def measure(work: Path, count: int, log: Callable[[str], None]) -> tuple[list[list[str]], dict[str, Any]]:
    """Crawl ``count`` real pages statically, then their script-rendered copies through the browser."""
    pages = [p for p in realpages.load() if len(p.html.encode()) < realpages.MAX_BYTES and script_rendered(p.html)]
    pages = pages[:count]
    result: dict[str, Any] = {"pages": len(pages)}
    rows = []
    for label, scripted, mode in (("static (HTTP only)", False, "never"), ("script-rendered, auto", True, "auto")):
        sites, urls = _serve(pages, scripted)
        try:
            log(f"{label}: crawling {len(urls)} pages")
            run, summary = proc.crawl(str(work / f"{mode}.db"), urls, {"REDLINE_RENDER": mode}, sample=True)
        finally:
            for site in sites:
                site.stop()
        made = summary["outcomes"].get("new-article", 0)
        result[mode] = {"wall_s": run.wall, "pages_per_s": len(urls) / run.wall, "tree_rss_mb": run.tree_rss_mb,
                        "tree_pss_mb": run.tree_pss_mb, "hwm_max_mb": run.hwm_max_mb, "outcomes": summary["outcomes"],
                        "main_cpu_s": run.main_cpu_s, "other_cpu_s": run.other_cpu_s}
        rows.append([label, f"{len(urls)}", f"{made}", f"{run.wall:.1f}", f"{len(urls) / run.wall:.2f}",
                     f"{run.tree_rss_mb:.0f}", f"{run.tree_pss_mb:.0f}", f"{run.main_cpu_s + run.other_cpu_s:.1f}"])
    result["load_average_end"] = os.getloadavg()
    return rows, result


HEAD = ["crawl", "pages", "articles", "wall s", "pages/s", "peak tree RSS MB", "peak tree PSS MB", "CPU s"]


def table(rows: list[list[str]]) -> str:
    """The rows under HEAD, aligned."""
    cells = [HEAD, *rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEAD))]
    lines = ["  ".join(c[i].rjust(widths[i]) if i else c[i].ljust(widths[i]) for i in range(len(HEAD)))
             for c in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
