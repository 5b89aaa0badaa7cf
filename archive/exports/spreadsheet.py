"""CSV reports of the archive (``export --format csv``, ``list/log --csv``): a report for spreadsheets,
not an archive format (``import`` refuses it).

One header row, RFC 4180 quoting, UTF-8 (with a byte order mark for Excel when asked). The columns are
the documented JSON fields of the same view, flattened: a nested ``change`` gives ``change_kinds``,
``added_words``, ...; lists are joined with ``"; "``; booleans are ``true``/``false``; null is empty. A
cell from a crawled page that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
leading ``'``, so a hostile title cannot become a spreadsheet formula (OWASP's CSV injection advice).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy.orm import Session

from archive.exports.files import inside, write_atomic
from archive.exports.selection import Selected
from archive.queries import iso, short_ids

CSV_NAME = "redline.csv"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EXPORT_COLUMNS = ("url", "id", "version", "captured_at", "title", "byline", "published", "updated", "words",
                  "change_kinds", "added_words", "removed_words", "declared", "reverts_to", "drift", "sha256",
                  "fetched_url", "from_other_url")


def cell(value: Any) -> str:
    """One CSV cell, formula-safe.

    >>> [cell(v) for v in ("=1+1", "@SUM(A1)", "plain", None, True, ["a", "b"], -3)]
    ["'=1+1", "'@SUM(A1)", 'plain', '', 'true', 'a; b', '-3']
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        value = "; ".join(str(v) for v in value)
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_START) else value
    return str(value)


def flatten(record: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON record with its nested objects spread into prefixed columns, at any depth (a change's
    site-wide group, its headline and byline too).

    >>> flatten({"version": 2, "change": {"kinds": ["headline"], "headline": {"old": "A", "new": "B"}}})
    {'version': 2, 'change_kinds': ['headline'], 'change_headline_old': 'A', 'change_headline_new': 'B'}
    >>> flatten({"version": 1, "change": None})
    {'version': 1, 'change': None}
    >>> flatten({"change": {"site_wide": {"articles": 10}}})
    {'change_site_wide_articles': 10}
    """
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, Mapping):
            out.update({f"{key}_{inner}": v for inner, v in flatten(value).items()})
        else:
            out[key] = value
    return out


def to_csv(records: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None, bom: bool = False) -> bytes:
    """The CSV text of flattened records. Without ``columns``: every key in first-seen order, except a
    nested record's key where it is null (version 1's ``change``), whose columns the others give.

    >>> to_csv([{"v": 1, "change": None}, {"v": 2, "change": {"kinds": ["headline"]}}]).decode().split()
    ['v,change_kinds', '1,', '2,headline']
    """
    rows = [flatten(r) for r in records]
    if columns is None:
        seen = list(dict.fromkeys(k for row in rows for k in row))
        columns = [k for k in seen if not (any(c.startswith(k + "_") for c in seen)
                                           and all(row.get(k) is None for row in rows))]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([cell(row.get(c)) for c in columns] for row in rows)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


def export_csv(session: Session, out_dir: Path, selected: list[Selected]) -> tuple[list[str], int]:
    """``redline.csv`` in ``out_dir``: one row per selected version; (files, files rewritten)."""
    ids = short_ids(session.connection(), [sel.article.key_sha256 or "" for sel in selected])
    rows = [{"url": sel.article.key, "id": ids[sel.article.key_sha256 or ""], "version": sel.version.number,
             "captured_at": iso(sel.version.captured_at), "title": sel.version.title, "byline": sel.version.byline,
             "published": sel.version.published, "updated": sel.version.updated, "words": sel.version.words,
             "change_kinds": sel.version.change_kinds, "added_words": sel.version.added_words,
             "removed_words": sel.version.removed_words, "declared": sel.version.declared,
             "reverts_to": sel.version.reverts_to, "drift": bool(sel.version.drift),
             "sha256": sel.version.text_sha256, "fetched_url": sel.fetched_url,
             "from_other_url": bool(sel.version.from_other_url)} for sel in selected]
    written = write_atomic(inside(out_dir, PurePosixPath(CSV_NAME)), to_csv(rows, EXPORT_COLUMNS))
    return [CSV_NAME], int(written)
