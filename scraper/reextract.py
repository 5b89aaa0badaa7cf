"""Run the current extractor again over stored raw captures."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine
from w3lib.encoding import html_to_unicode

from archive.store.facade import Archive
from archive.store.outcomes import Recorded
from scraper.extract import extract_page


def reextract(engine: Engine, urls: Sequence[str] = ()) -> list[Recorded]:
    """Re-extract each article's latest good capture; differences are recorded as extractor drift."""
    archive = Archive(engine)
    outcomes = []
    for article_id, fetch_id, url, body, content_type in archive.raw_captures(urls):
        _encoding, html = html_to_unicode(f"charset={charset(content_type)}" if content_type else None, body)
        outcomes.append(archive.record_reextraction(article_id, fetch_id, extract_page(html, url)))
    return outcomes


def charset(content_type: str) -> str:
    """The charset parameter of a Content-Type, or an empty string."""
    for part in content_type.split(";"):
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip('"')
    return ""
