"""Per-site crawl defaults (``redline site``): how a site's pages are fetched, and whether screenshotted."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from archive.queries.common import Db, connected
from archive.schema import tables as t


@dataclass(frozen=True)
class SiteDefaults:
    """A site's defaults; None where not set (render: ``auto``; screenshot: no)."""

    host: str
    render: str | None
    screenshot: bool | None
    updated_at: datetime


def site_defaults(db: Db) -> list[SiteDefaults]:
    """Every site with defaults, by host."""
    with connected(db) as conn:
        rows = conn.execute(select(t.sites).order_by(t.sites.c.host)).all()
    return [SiteDefaults(r.host, r.render, r.screenshot, r.updated_at) for r in rows]


def site_screenshot_hosts(db: Db) -> frozenset[str]:
    """The sites set to have every new version screenshotted (``redline site set HOST --screenshot``)."""
    with connected(db) as conn:
        return frozenset(conn.scalars(select(t.sites.c.host).where(t.sites.c.screenshot.is_(True))))


def site_render_modes(db: Db) -> dict[str, str]:
    """host -> render mode, for the sites that set one (what a crawl reads once at its start)."""
    with connected(db) as conn:
        rows = conn.execute(select(t.sites.c.host, t.sites.c.render).where(t.sites.c.render.is_not(None))).all()
    return {host: render for host, render in rows}
