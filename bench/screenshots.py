"""What a screenshot costs: bytes and seconds per page, over the cached real pages (:mod:`bench.realpages`).

Each page is rendered the way Redline renders a version (:mod:`scraper.screenshots`: the page's HTML
served from memory as the archived body, JavaScript off, third-party and same-host subresources
blocked, 1280 wide, cut at 16,000 pixels) in Debian's Chromium, once per format: the chosen one
(WebP, quality 80) and PNG, the lossless alternative, one browser per format, the pages in the same
order. Seconds are Redline's own ``Shot.seconds`` (a new browser context, the page load, the capture and
its encoding), not the browser's start.
"""
from __future__ import annotations

import statistics
from typing import Any

from bench import realpages
from scraper.screenshots import ShotSettings, browser

FORMATS = (("webp", 80), ("png", 0))  # the chosen one first


def measure(limit: int | None) -> dict[str, Any]:
    """Per format: pages, bytes and seconds (median and p95), tall pages cut."""
    pages = realpages.load(limit=limit)
    found: dict[str, Any] = {"pages": len(pages)}
    for fmt, quality in FORMATS:
        sizes, seconds, cut = [], [], 0
        with browser(ShotSettings(image_format=fmt, quality=quality)) as shooter:
            for page in pages:
                shot = shooter.shoot(f"http://127.0.0.1:9/{page.slug}.html", page.html.encode("utf-8"),
                                     "text/html; charset=utf-8")
                sizes.append(len(shot.image))
                seconds.append(shot.seconds)
                cut += shot.page_height > shot.height
        found[fmt] = {"quality": quality or None, "bytes": _spread(sizes), "seconds": _spread(seconds),
                      "total_bytes": sum(sizes), "cut": cut}
    return found


def _spread(values: list[float]) -> dict[str, float]:
    """Median and 95th percentile.

    >>> _spread([1, 2, 3, 4, 100])
    {'median': 3, 'p95': 100}
    """
    ordered = sorted(values)
    return {"median": statistics.median(ordered), "p95": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]}
