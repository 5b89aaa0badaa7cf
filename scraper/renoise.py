"""Re-decide which stored captures were real edits, after the noise rules changed."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine
from w3lib.encoding import html_to_unicode

from archive.capture import IMPORT_MARKER, Extracted
from archive.clock import utcnow
from archive.store.facade import Archive
from archive.store.outcomes import Recorded
from scraper.extract import extract_page
from scraper.reextract import charset


@dataclass
class RenoiseResult:
    """What one ``renoise`` pass did."""

    articles: int = 0
    captures: int = 0
    recovered: list[Recorded] = field(default_factory=list)


def renoise(engine: Engine, urls: Sequence[str] = (), site: str | None = None) -> RenoiseResult:
    """Extract every stored capture of the chosen articles again and insert the versions that the noise
    rules of their time wrongly suppressed (see :meth:`archive.store.Archive.record_renoise`)."""
    archive, result, now = Archive(engine), RenoiseResult(), utcnow()
    for article_id, _url in archive.renoise_targets(urls, site):
        cache: dict[bytes, Extracted] = {}
        extracted = []
        for fetch_id, url, body, content_type in archive.stored_captures(article_id):
            if body is None or IMPORT_MARKER in (content_type or ""):
                extracted.append((fetch_id, None))
                continue
            if body not in cache:
                _encoding, html = html_to_unicode(f"charset={charset(content_type)}" if content_type else None, body)
                cache[body] = extract_page(html, url)
            extracted.append((fetch_id, cache[body]))
        result.articles += 1
        result.captures += len(extracted)
        result.recovered += archive.record_renoise(article_id, extracted, now)
    return result
