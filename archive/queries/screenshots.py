"""Screenshots of versions: what was taken, its image, and the versions still waiting for one."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, select

from archive.queries.bodies import read_body
from archive.queries.common import Db, connected, iso
from archive.schema import tables as t

S, W, V, F, A = t.screenshots, t.screenshot_wanted, t.versions, t.fetches, t.articles
MEDIA_TYPES = {"webp": "image/webp", "png": "image/png", "jpeg": "image/jpeg"}
SCREENSHOT_EXTENSIONS = {"webp": "webp", "png": "png", "jpeg": "jpg"}  # a file name's, from the stored format only


@dataclass(frozen=True)
class ScreenshotInfo:
    """One version's screenshot, without its image."""

    id: int
    number: int  # the version's
    taken_at: datetime
    sha256: str
    format: str
    width: int
    height: int
    page_height: int
    seconds: float
    made_how: str
    subresources: str

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]

    @property
    def cut(self) -> bool:
        """True when the page was taller than the picture."""
        return self.page_height > self.height

    def as_json(self) -> dict[str, Any]:
        """The ``screenshot`` object of a version in ``--json``."""
        return {"taken_at": iso(self.taken_at), "sha256": self.sha256, "format": self.format, "width": self.width,
                "height": self.height, "page_height": self.page_height, "seconds": self.seconds,
                "made_how": self.made_how, "subresources": self.subresources}


@dataclass(frozen=True)
class Pending:
    """A version waiting for its screenshot, with the archived response to render."""

    version_id: int
    url: str
    body: bytes
    content_type: str | None
    made_how: str = "archived-body"  # or "rendered-dom": the DOM a browser rendered, which the text came from


_COLUMNS = (S.c.id, V.c.number, S.c.taken_at, S.c.sha256, S.c.format, S.c.width, S.c.height, S.c.page_height,
            S.c.seconds, S.c.made_how, S.c.subresources)


def screenshots(db: Db, article_id: int, numbers: Sequence[int] | None = None) -> dict[int, ScreenshotInfo]:
    """The latest screenshot of each of an article's versions (of ``numbers`` only, when given), by number."""
    query = select(*_COLUMNS).join(V, V.c.id == S.c.version_id).where(S.c.article_id == article_id).order_by(S.c.id)
    if numbers is not None:
        query = query.where(V.c.number.in_(list(numbers)))
    with connected(db) as conn:
        return {row.number: ScreenshotInfo(*row) for row in conn.execute(query)}


def latest_screenshot(version_id: int) -> Select[tuple[int, str]]:
    """The query for (id, format) of a version's latest screenshot (none or one row)."""
    return select(S.c.id, S.c.format).where(S.c.version_id == version_id).order_by(S.c.id.desc()).limit(1)


def screenshot_image(db: Db, screenshot_id: int) -> bytes:
    """One screenshot's stored image."""
    with connected(db) as conn:
        return conn.scalar(select(S.c.image).where(S.c.id == screenshot_id)) or b""


def pending_screenshots(db: Db, limit: int | None = None) -> list[Pending]:
    """Versions marked for a screenshot that have none yet, oldest mark first, with their archived bodies."""
    query = (select(W.c.version_id, F.c.final_url, F.c.url, F.c.body_sha256, F.c.rendered_sha256, F.c.content_type)
             .join(V, V.c.id == W.c.version_id).join(F, F.c.id == V.c.fetch_id)
             .order_by(W.c.wanted_at, W.c.version_id).limit(limit))
    with connected(db) as conn:
        return [Pending(row.version_id, row.final_url or row.url, _body(conn, row.rendered_sha256),
                        "text/html; charset=utf-8", "rendered-dom") if row.rendered_sha256 else
                Pending(row.version_id, row.final_url or row.url, _body(conn, row.body_sha256), row.content_type)
                for row in conn.execute(query).all()]


def pending_versions(db: Db) -> list[int]:
    """The ids of the versions marked for a screenshot, oldest mark first."""
    with connected(db) as conn:
        return list(conn.execute(select(W.c.version_id).order_by(W.c.wanted_at, W.c.version_id)).scalars())


def _body(conn: Connection, sha: str | None) -> bytes:
    return read_body(conn, sha) if sha else b""
