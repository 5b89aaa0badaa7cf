"""WARC 1.1 export of stored raw captures, with a CDXJ index.

``OUT_DIR/redline.warc.gz`` (one gzip member per record) holds, oldest capture first:

* one ``warcinfo`` record;
* per capture (a fetch row with a stored body): a ``response`` record whose HTTP head is rebuilt from
  the fetch row (status, Content-Type, a Content-Length that matches the stored body, never
  Content-Encoding or Transfer-Encoding: bodies are stored decoded), then a reconstructed ``request``
  record (method, path, Host; no Cookie or Authorization) concurrent to it. A capture whose body was
  already written earlier in the file becomes a ``revisit`` record (identical-payload-digest profile,
  WARC 1.1 URI) referring to the first record with that payload;
* captures made by ``redline import`` (Content-Type with ``x-redline-import``) are ``resource`` records;
* a capture fetched through a browser is followed by a ``conversion`` record of the DOM the browser
  rendered (``text/html; charset=utf-8``, the bytes whose sha256 the chain holds as ``rendered_sha256``),
  with ``WARC-Refers-To`` naming the capture's record;
* per exported version: a ``conversion`` record holding the version text (UTF-8), with
  ``WARC-Refers-To`` naming the record of the capture it was extracted from; and, when the version has
  a screenshot, a ``resource`` record of the image (its own Content-Type, ``WARC-Date`` the time it was
  taken) at ``urn:fullPage:<the capture's URI>``, the name Browsertrix Crawler gives its full-page
  screenshots (``src/util/screenshots.ts``: ``urn:<type>:<url>``), which ReplayWeb.page lists beside the page.

Without ``all_versions`` only the captures the selected (latest) versions came from are written; with
it, every stored capture of the selected articles (fetched at or after ``since``), so re-fetches of an
unchanged page appear as revisits. Record IDs and dates derive from the archive, never from the clock,
so a re-run gives the same bytes. ``OUT_DIR/redline.cdxj`` is the sorted CDXJ index of the WARC
(cdxj-indexer's default record types: response, revisit, resource).
"""
from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path, PurePosixPath
from typing import IO
from urllib.parse import quote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from archive.capture import IMPORT_MARKER
from archive.exports.files import atomic_file, inside, write_atomic
from archive.exports.selection import Selected
from archive.queries.bodies import BodyReader
from archive.queries.screenshots import MEDIA_TYPES
from archive.schema import models as m

WARC_NAME = "redline.warc.gz"
CDXJ_NAME = "redline.cdxj"
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://redline.invalid/warc")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
WARCINFO = (b"software: Redline\r\n"
            b"format: WARC File Format 1.1\r\n"
            b"conformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n"
            b"description: Raw captures from a Redline archive. Bodies are stored decoded, so HTTP heads are "
            b"rebuilt without Content-Encoding; request records are reconstructed.\r\n")


@dataclass
class _Written:
    """The record a later revisit or conversion refers to."""

    record_id: str
    uri: str
    date: str
    digest: str


@dataclass
class _Builder:
    """Writes records in order and remembers payloads already written."""

    writer: WARCWriter
    seen: dict[str, _Written] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def write(self, record: ArcWarcRecord) -> None:
        self.writer.write_record(record)
        self.counts[record.rec_type] = self.counts.get(record.rec_type, 0) + 1


def record_id(*parts: object) -> str:
    """A deterministic ``<urn:uuid:...>`` from the parts that identify a record."""
    return f"<urn:uuid:{uuid.uuid5(ID_NAMESPACE, '|'.join(map(str, parts)))}>"


def warc_date(value: datetime) -> str:
    """WARC 1.1 date (microseconds when present)."""
    return datetime_to_iso_date(value.astimezone(UTC).replace(tzinfo=None), use_micros=True)


def safe_uri(url: str) -> str:
    """A URL usable as a WARC header value: no spaces, controls or non-ASCII characters."""
    return quote(url, safe="!#$%&'()*+,/:;=?@[]~-._")


def _header_value(value: str) -> str:
    return re.sub(r"[\x00-\x1f\x7f]", "", value)


# -- captures to records ----------------------------------------------------------------------------

def _captures(session: Session, selected: list[Selected], all_versions: bool,
              since: datetime | None) -> list[m.Fetch]:
    """Fetch rows with stored bodies to write, oldest first."""
    if all_versions:
        articles = sorted({s.article.id for s in selected})
        query = select(m.Fetch).where(m.Fetch.article_id.in_(articles), m.Fetch.body_sha256.is_not(None),
                                      m.Fetch.status.is_not(None))
        if since is not None:
            query = query.where(m.Fetch.fetched_at >= since)
    else:
        ids = sorted({s.version.fetch_id for s in selected if s.version.fetch_id is not None})
        query = select(m.Fetch).where(m.Fetch.id.in_(ids), m.Fetch.body_sha256.is_not(None))
    return list(session.scalars(query.order_by(m.Fetch.fetched_at, m.Fetch.id)))


def _http_head(fetch: m.Fetch, size: int) -> StatusAndHeaders:
    status = fetch.status or 200
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    headers = [("Content-Type", _header_value(fetch.content_type))] if fetch.content_type else []
    headers.append(("Content-Length", str(size)))
    return StatusAndHeaders(f"{status} {reason}".strip(), headers, protocol="HTTP/1.1")


def _request(builder: _Builder, uri: str, date: str, concurrent_to: str) -> None:
    parts = urlsplit(uri)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    head = StatusAndHeaders(f"GET {target} HTTP/1.1", [("Host", parts.netloc)], is_http_request=True)
    builder.write(builder.writer.create_warc_record(
        uri, "request", http_headers=head,
        warc_headers_dict={"WARC-Record-ID": record_id("request", concurrent_to), "WARC-Date": date,
                           "WARC-Concurrent-To": concurrent_to}))


def _capture(builder: _Builder, bodies: BodyReader, fetch: m.Fetch) -> str:
    """Write the records of one capture; returns the ID of its response, revisit or resource record."""
    assert fetch.body_sha256 is not None
    body = bodies.read(fetch.body_sha256)
    uri, date = safe_uri(fetch.final_url or fetch.url), warc_date(fetch.fetched_at)
    if IMPORT_MARKER in (fetch.content_type or ""):
        rid = record_id("resource", fetch.id, uri, date)
        builder.write(builder.writer.create_warc_record(
            uri, "resource", payload=io.BytesIO(body), length=len(body),
            warc_content_type=_header_value(fetch.content_type or ""),
            warc_headers_dict={"WARC-Record-ID": rid, "WARC-Date": date}))
        return rid
    earlier = builder.seen.get(fetch.body_sha256)
    if earlier is None:
        rid = record_id("response", fetch.id, uri, date)
        record = builder.writer.create_warc_record(
            uri, "response", payload=io.BytesIO(body), length=len(body), http_headers=_http_head(fetch, len(body)),
            warc_headers_dict={"WARC-Record-ID": rid, "WARC-Date": date})
        builder.seen[fetch.body_sha256] = _Written(rid, uri, date, record.rec_headers.get_header("WARC-Payload-Digest"))
    else:
        rid = record_id("revisit", fetch.id, uri, date)
        record = builder.writer.create_revisit_record(
            uri, earlier.digest, earlier.uri, earlier.date, http_headers=_http_head(fetch, len(body)),
            warc_headers_dict={"WARC-Record-ID": rid, "WARC-Date": date, "WARC-Refers-To": earlier.record_id})
    builder.write(record)
    _request(builder, uri, date, rid)
    return rid


def _rendered(builder: _Builder, bodies: BodyReader, fetch: m.Fetch, refers_to: str) -> None:
    """The DOM a browser rendered from a capture (what its version's text came from), as a ``text/html``
    ``conversion`` record referring to the capture's record."""
    assert fetch.rendered_sha256 is not None
    dom = bodies.read(fetch.rendered_sha256)
    uri, date = safe_uri(fetch.final_url or fetch.url), warc_date(fetch.fetched_at)
    builder.write(builder.writer.create_warc_record(
        uri, "conversion", payload=io.BytesIO(dom), length=len(dom), warc_content_type="text/html; charset=utf-8",
        warc_headers_dict={"WARC-Record-ID": record_id("rendered", fetch.id, uri, date), "WARC-Date": date,
                           "WARC-Refers-To": refers_to}))


def _conversion(builder: _Builder, sel: Selected, uri: str, refers_to: str | None) -> None:
    data = sel.text.encode("utf-8")
    date = warc_date(sel.version.captured_at)
    headers = {"WARC-Record-ID": record_id("conversion", sel.article.key, sel.version.number, date),
               "WARC-Date": date}
    if refers_to:
        headers["WARC-Refers-To"] = refers_to
    builder.write(builder.writer.create_warc_record(
        uri, "conversion", payload=io.BytesIO(data), length=len(data),
        warc_content_type="text/plain; charset=utf-8", warc_headers_dict=headers))


def _screenshot(builder: _Builder, session: Session, sel: Selected, uri: str, refers_to: str | None) -> None:
    """The version's latest screenshot, if it has one, as a ``resource`` record Browsertrix would name."""
    found = session.execute(select(m.Screenshot).where(m.Screenshot.version_id == sel.version.id)
                            .order_by(m.Screenshot.id.desc()).limit(1)).scalar_one_or_none()
    if found is None:
        return
    date = warc_date(found.taken_at)
    headers = {"WARC-Record-ID": record_id("screenshot", sel.article.key, sel.version.number, found.sha256),
               "WARC-Date": date}
    if refers_to:
        headers["WARC-Refers-To"] = refers_to
    builder.write(builder.writer.create_warc_record(
        screenshot_uri(uri), "resource", payload=io.BytesIO(found.image), length=len(found.image),
        warc_content_type=MEDIA_TYPES[found.format], warc_headers_dict=headers))


def screenshot_uri(uri: str) -> str:
    """Where a capture's full-page screenshot sits in a WARC, as Browsertrix Crawler names it.

    >>> screenshot_uri("https://example.com/a")
    'urn:fullPage:https://example.com/a'
    """
    return f"urn:fullPage:{uri}"


def _warcinfo(builder: _Builder, latest: datetime) -> None:
    date = warc_date(latest)
    builder.write(builder.writer.create_warc_record(
        "", "warcinfo", payload=io.BytesIO(WARCINFO), length=len(WARCINFO),
        warc_headers_dict={"WARC-Record-ID": record_id("warcinfo", WARC_NAME, date),
                           "WARC-Filename": WARC_NAME, "WARC-Date": date}))


def write_records(fh: IO[bytes], session: Session, selected: list[Selected], all_versions: bool,
                  since: datetime | None) -> dict[str, int]:
    """Write the whole WARC to ``fh``; returns record counts by type."""
    captures = _captures(session, selected, all_versions, since)
    by_fetch: dict[int | None, list[Selected]] = {}
    for sel in selected:
        by_fetch.setdefault(sel.version.fetch_id, []).append(sel)
    builder = _Builder(WARCWriter(fh, gzip=True, warc_version="1.1"))
    times = [f.fetched_at for f in captures] + [s.version.captured_at for s in selected]
    _warcinfo(builder, max(times, default=EPOCH))
    written: set[int] = set()
    bodies = BodyReader(session, keep=64)  # captures interleave articles by time: keep each one's latest
    for fetch in captures:
        rid = _capture(builder, bodies, fetch)
        if fetch.rendered_sha256:
            _rendered(builder, bodies, fetch, rid)
        written.add(fetch.id)
        for sel in by_fetch.get(fetch.id, []):
            _conversion(builder, sel, safe_uri(fetch.final_url or fetch.url), rid)
            _screenshot(builder, session, sel, safe_uri(fetch.final_url or fetch.url), rid)
    for sel in selected:  # versions whose capture has no stored body
        if sel.version.fetch_id not in written:
            _conversion(builder, sel, safe_uri(sel.article.key), None)
            _screenshot(builder, session, sel, safe_uri(sel.article.key), None)
    return builder.counts


def cdxj_index(warc: Path) -> bytes:
    """The sorted CDXJ index of a WARC file, as cdxj-indexer writes it."""
    from cdxj_indexer import CDXJIndexer

    out = io.StringIO()
    CDXJIndexer(output=out, inputs=[str(warc)], sort=True, filename=warc.name).process_all()
    return out.getvalue().encode("utf-8")


def write_warc(session: Session, out_dir: Path, selected: list[Selected], all_versions: bool,
               since: datetime | None) -> tuple[list[str], int]:
    """Write ``redline.warc.gz`` and ``redline.cdxj``; returns (relative file names, files written)."""
    warc_path = inside(out_dir, PurePosixPath(WARC_NAME))
    with atomic_file(warc_path) as fh:
        write_records(fh, session, selected, all_versions, since)
    written = 1 + write_atomic(inside(out_dir, PurePosixPath(CDXJ_NAME)), cdxj_index(warc_path))
    return [WARC_NAME, CDXJ_NAME], written
