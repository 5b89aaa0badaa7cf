"""Export dispatch: select the versions, then write them in the format asked for (txt, md, jsonl, warc or
the csv report); txt, md and jsonl also write ``redline.history.jsonl`` (events, noise rules, templates), and
txt and md each version's screenshot beside its text (``v0002-20261122T063251Z.webp``)."""
from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from archive.errors import ExportError
from archive.exports.files import inside, write_atomic
from archive.exports.history import HISTORY_NAME, history_lines, render_history
from archive.exports.selection import Selected, select_versions
from archive.exports.spreadsheet import export_csv
from archive.exports.text import JSONL_NAME, jsonl_record, render_md, render_txt, version_path
from archive.exports.warc import write_warc
from archive.queries.screenshots import SCREENSHOT_EXTENSIONS, latest_screenshot
from archive.schema import tables as t

FORMATS = ("txt", "md", "jsonl", "warc", "csv")  # csv is a report: import refuses it


@dataclass
class ExportResult:
    """What an export did: versions selected, files produced (relative to OUT_DIR), files rewritten."""

    versions: int = 0
    files: list[str] = field(default_factory=list)
    written: int = 0


def export(engine: Engine, out_dir: Path, fmt: str = "txt", urls: Sequence[str] = (),
           since: datetime | None = None, all_versions: bool = False) -> ExportResult:
    """Export the selected versions of the archive into ``out_dir`` in format ``fmt``."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    with Session(engine) as session:
        selected = select_versions(session, urls, since, all_versions)
        if fmt == "warc":
            files, written = write_warc(session, out_dir, selected, all_versions, since)
            return ExportResult(len(selected), files, written)
        if fmt == "csv":
            files, written = export_csv(session, out_dir, selected)
            return ExportResult(len(selected), files, written)
        history = render_history(history_lines(session, selected, since))
        result = _export_jsonl(out_dir, selected) if fmt == "jsonl" else _export_files(out_dir, selected, fmt)
        if fmt != "jsonl":
            _export_screenshots(session, out_dir, selected, result)
    result.written += int(write_atomic(inside(out_dir, PurePosixPath(HISTORY_NAME)), history))
    result.files.append(HISTORY_NAME)
    return result


def _export_files(out_dir: Path, selected: list[Selected], fmt: str) -> ExportResult:
    result = ExportResult(len(selected))
    owners: dict[PurePosixPath, str] = {}
    for sel in selected:
        rel = version_path(sel.article.key, sel.version.number, sel.version.captured_at, fmt)
        if owners.setdefault(rel.parent, sel.article.key) != sel.article.key:
            raise ExportError(f"export path clash between {owners[rel.parent]} and {sel.article.key}")
        path = inside(out_dir, rel)
        data = render_txt(sel) if fmt == "txt" else render_md(sel)
        result.written += write_atomic(path, data)
        stamp = sel.version.captured_at.timestamp()
        with contextlib.suppress(OSError):
            os.utime(path, (stamp, stamp))
        result.files.append(str(rel))
    return result


def _export_screenshots(session: Session, out_dir: Path, selected: list[Selected], result: ExportResult) -> None:
    """Each selected version's screenshot, beside its text file under the same name (``v0002-….webp``)."""
    for sel in selected:
        for shot_id, image_format in session.execute(latest_screenshot(sel.version.id)).all():
            image = session.scalar(select(t.screenshots.c.image).where(t.screenshots.c.id == shot_id)) or b""
            ext = SCREENSHOT_EXTENSIONS[image_format]  # from the stored format's fixed set, never from the web
            rel = version_path(sel.article.key, sel.version.number, sel.version.captured_at, ext)
            result.written += write_atomic(inside(out_dir, rel), image)
            result.files.append(str(rel))


def _export_jsonl(out_dir: Path, selected: list[Selected]) -> ExportResult:
    lines = [json.dumps(jsonl_record(sel), ensure_ascii=False) + "\n" for sel in selected]
    written = write_atomic(inside(out_dir, PurePosixPath(JSONL_NAME)), "".join(lines).encode("utf-8"))
    return ExportResult(len(selected), [JSONL_NAME], int(written))
