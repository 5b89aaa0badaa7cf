"""Raw pages for ``redline import``: saved ``.html`` pages and WARC files, read through the extractor as a
crawl reads its pages (``archive`` never imports trafilatura, so this reading lives here).

**A saved page** has no trustworthy capture time (a file's modification time says when it was copied,
not when the page said this), so it is read only with one given (``--captured-at``). Its URL is
``--url``, else the page's own canonical link.

**A WARC** (Redline's own export, or any crawler's) gives back raw captures: each ``response`` record
becomes a fetch with its status, Content-Type, body and WARC-Date, and each ``revisit`` the capture of
the payload it refers to. Bodies are run through the extractor like a crawl's pages, for the title,
byline, dates and page signals. The version text is the ``conversion`` record that refers to the
capture, when there is one: it is what the exporting archive recorded, so a newer extractor cannot
change an imported version's words (``redline reextract`` shows any drift afterwards, as for a crawl).
A capture with a conversion record made a version there and makes one here; a 2xx capture without
one made none (unchanged, or noise under that archive's rules) and makes none here; a 404 or 410
capture is an event. A ``conversion`` record of type ``text/html`` referring to a capture is the DOM a
browser rendered from it: the page is read from it, and it is kept beside the body as a crawl keeps it.
A WARC without any conversion record is another crawler's: each capture is then
judged by this archive as a crawl's would be. ``resource`` records Redline wrote for imported text
snapshots come back as those snapshots.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from w3lib.encoding import html_to_unicode
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from archive.capture import IMPORT_MARKER, Extracted, imported_from, mark_imported
from archive.store.importer import CONTENT_TYPES, Snapshot, UnreadablePath, as_time
from scraper.extract import extract_page
from scraper.reextract import charset


def read_page(body: bytes, content_type: str | None, url: str) -> Extracted:
    """The extractor's reading of a raw body, as a crawl's pipeline reads it."""
    declared = charset(content_type or "")
    _encoding, html = html_to_unicode(f"charset={declared}" if declared else None, body)
    return extract_page(html, url)


def read_html(path: Path, captured_at: datetime, url: str | None) -> tuple[list[Snapshot], list[str]]:
    """A saved page as one capture at ``captured_at``."""
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise UnreadablePath(f"cannot read {path}: {exc.strerror or exc}") from exc
    extracted = read_page(body, "text/html", url or "")
    page_url = url or extracted.canonical_url
    if not extracted.text.strip():
        return [], [f"skipped {path}: the extractor found no article text"]
    snapshot = Snapshot(str(path), "html", page_url, captured_at, extracted.text, body,
                        content_type=mark_imported("text/html", "html"), extracted=extracted)
    return [snapshot], []


def read_warc(path: Path) -> tuple[list[Snapshot], list[str]]:
    """The captures in a WARC file, oldest first."""
    try:
        records = list(_records(path))
    except (OSError, ArchiveLoadFailed) as exc:
        raise UnreadablePath(f"cannot read {path}: not a readable WARC ({exc})") from exc
    texts = {r["refers_to"]: r["payload"].decode("utf-8", "replace") for r in records
             if r["type"] == "conversion" and r["refers_to"] and not _is_html(r)}
    doms = {r["refers_to"]: r["payload"] for r in records if r["type"] == "conversion" and _is_html(r)}
    payloads = {r["digest"]: r["payload"] for r in records if r["type"] == "response" and r["digest"]}
    snapshots, messages, cache = [], [], {}
    for r in records:
        where = f"{path}#{r['id']}"
        if r["type"] == "resource" and IMPORT_MARKER in (r["content_type"] or ""):
            snapshots.append(_resource(where, r, texts.get(r["id"])))
            continue
        if r["type"] == "conversion" and not r["refers_to"]:  # a version whose capture kept no body
            snapshots.append(Snapshot(where, "warc", r["uri"], r["date"], r["payload"].decode("utf-8", "replace"),
                                      r["payload"], is_version=True))
            continue
        if r["type"] not in ("response", "revisit") or r["status"] is None:
            continue
        body = r["payload"] if r["type"] == "response" else payloads.get(r["digest"])
        if body is None:
            messages.append(f"skipped {where}: a revisit of a payload this WARC does not hold")
            continue
        ok = 200 <= r["status"] < 300
        extracted, dom = None, doms.get(r["id"])
        if ok:
            page, page_type = (dom, "text/html; charset=utf-8") if dom is not None else (body, r["content_type"])
            if page not in cache:
                cache[page] = read_page(page, page_type, r["uri"])
            extracted = _with_text(cache[page], texts.get(r["id"]))
        snapshots.append(Snapshot(
            where, "warc", r["uri"], r["date"], extracted.text if extracted else "", body,
            is_version=(r["id"] in texts) if texts and ok else None, status=r["status"],
            content_type=mark_imported(r["content_type"], "warc"), extracted=extracted, rendered=dom))
    return snapshots, messages


def _is_html(record: dict[str, Any]) -> bool:
    """A conversion record holding the DOM a browser rendered (Redline writes its version texts as text/plain)."""
    return (record["content_type"] or "").startswith("text/html")


def _with_text(extracted: Extracted, text: str | None) -> Extracted:
    """The extraction, holding the exporting archive's version text when it recorded one."""
    if text is None or text == extracted.text:
        return extracted
    return Extracted(**{**extracted.__dict__, "text": text, "prepared": None})


def _resource(where: str, record: dict[str, Any], text: str | None) -> Snapshot:
    fmt = imported_from(record["content_type"]) or "txt"
    return Snapshot(where, fmt if fmt in CONTENT_TYPES else "txt", record["uri"], record["date"],
                    text if text is not None else record["payload"].decode("utf-8", "replace"), record["payload"],
                    is_version=True if text is not None else None)


def _records(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as fh:
        for rec in ArchiveIterator(fh):
            headers = rec.rec_headers
            date = as_time(headers.get_header("WARC-Date"))
            if date is None:
                continue
            http = rec.http_headers if rec.rec_type in ("response", "revisit") else None
            status = http.get_statuscode() if http is not None else None
            yield {"type": rec.rec_type, "id": headers.get_header("WARC-Record-ID"),
                   "uri": headers.get_header("WARC-Target-URI"), "date": date,
                   "refers_to": headers.get_header("WARC-Refers-To"),
                   "digest": headers.get_header("WARC-Payload-Digest"),
                   "status": int(status) if status and status.isdigit() else None,
                   "content_type": (http.get_header("Content-Type") if http is not None
                                    else headers.get_header("Content-Type")),
                   "payload": rec.content_stream().read()}
