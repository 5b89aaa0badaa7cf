"""What an export or a citation takes from the archive: chosen versions with their article and text."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.capture import imported_from
from archive.queries import article
from archive.queries.reading import read_text
from archive.schema import models as m


@dataclass
class Selected:
    """One version chosen for export, with its article and text."""

    article: m.Article
    version: m.Version
    text: str
    fetched_url: str | None = None  # the URL its capture was fetched from (after redirects)
    imported: str | None = None  # the format its capture was imported from; None when fetched here


def select_versions(session: Session, urls: Sequence[str] = (), since: datetime | None = None,
                    all_versions: bool = False) -> list[Selected]:
    """Versions to export, by URL key then version number: latest only unless ``all_versions``."""
    fetched = func.coalesce(m.Fetch.final_url, m.Fetch.url)
    query = (select(m.Article, m.Version, fetched, m.Fetch.content_type)
             .join(m.Version, m.Version.article_id == m.Article.id)
             .outerjoin(m.Fetch, m.Fetch.id == m.Version.fetch_id))
    if not all_versions:
        query = query.where(m.Version.number == func.coalesce(m.Article.latest_version, m.Article.version_count))
    if since is not None:
        query = query.where(m.Version.captured_at >= since)
    if urls:
        query = query.where(m.Article.id.in_([article(session, u).id for u in urls]))
    rows = session.execute(query.order_by(m.Article.key, m.Version.number)).all()
    return [Selected(a, v, read_text(session, v), url, imported_from(ct)) for a, v, url, ct in rows]
