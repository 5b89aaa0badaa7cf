"""A saved HTML page as an import snapshot: extracted as a fetched page is (``reextract`` does the
same for stored captures), since the archive cannot run the extractor. Its capture time is given:
a file's modification time says when it was copied, not when the page was captured."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from w3lib.encoding import html_to_unicode

from archive.store.importer import Snapshot, UnreadablePath
from scraper.extract import extract_page


def html_snapshot(path: Path, url: str, captured_at: datetime) -> Snapshot:
    """The page at ``path`` as it read at ``url`` when captured at ``captured_at``."""
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise UnreadablePath(f"cannot read {path}: {exc.strerror or exc}") from exc
    _encoding, html = html_to_unicode(None, body)
    extracted = extract_page(html, url)
    return Snapshot(str(path), "html", url, captured_at, extracted.text, body, extracted=extracted)
