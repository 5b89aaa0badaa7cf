"""``redline export`` and ``redline import`` (registered on the group through ``COMMANDS``)."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from redline.options import UserError, check_urls, engine, handles_errors, json_option, parse_since
from redline.output import clean, emit_json


@click.command()
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["txt", "md", "jsonl", "warc", "csv"]), default="txt",
              show_default=True, help="txt: text + URL footer; md: YAML front matter; jsonl: one file; "
                                      "warc: raw captures + CDXJ index; csv: a report, one row per version.")
@click.option("--url", "urls", multiple=True, metavar="URL", help="Only this article, by URL or ID (repeatable).")
@click.option("--since", metavar="WHEN", help="Only versions captured since WHEN (7d, 12h, 2024-12-05).")
@click.option("--all-versions", is_flag=True, help="Every version (and, for warc, every capture), not just the latest.")
@json_option
@click.pass_context
@handles_errors
def export(ctx: click.Context, out_dir: str, fmt: str, urls: tuple[str, ...], since: str | None,
           all_versions: bool, as_json: bool) -> None:
    """Export archived versions as txt, md, jsonl or WARC files (or a CSV report) into OUT_DIR.

    By default the latest version of every article. txt and md files go to
    host/slug-hash/vNNNN-TIMESTAMP.EXT, never named after titles; re-runs give the same bytes.

    \b
    redline export out/
    redline export out/ --format md --all-versions --since 7d
    redline export out/ --format warc --url https://example.com/news/story
    redline export out/ --format csv --all-versions
    """

    from archive.exports.dispatch import export as run_export

    check_urls(urls, ids=True)
    when = parse_since(since) if since else None
    result = run_export(engine(ctx), Path(out_dir), fmt, urls, when, all_versions)
    if as_json:
        emit_json({"format": fmt, "versions": result.versions, "files": result.files, "written": result.written})
    else:
        click.echo(f"exported {result.versions} versions as {fmt} to {clean(out_dir)}  "
                   f"files {len(result.files)}  written {result.written}")


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--url", metavar="URL", help="URL for files that name none (applies to all given files).")
@click.option("--captured-at", metavar="WHEN",
              help="When a saved .html page was captured (2024-12-05T09:30Z); required for .html files, "
                   "since a file's modification time is not evidence.")
@json_option
@click.pass_context
@handles_errors
def import_cmd(ctx: click.Context, paths: tuple[str, ...], url: str | None, captured_at: str | None,
               as_json: bool) -> None:
    """Import Redline exports (txt, md, jsonl, warc), saved .html pages and older archives' text files.

    Each capture becomes a fetch, version or event at its recorded time; what an export
    carries (change kinds, events, noise rules, templates) comes back with it. Identical text is
    unchanged, not duplicated. Imported records are marked as imported.

    \b
    redline import out/
    redline import out/redline.warc.gz
    redline import page.html --url https://example.com/news/story --captured-at 2024-12-05T09:30Z
    redline import snapshots/ --url https://example.com/news/story
    """
    from archive.store.importer import ImportReport, UnreadablePath, read_paths, record_snapshots

    check_urls((url,) if url else ())
    when = _captured_at(captured_at) if captured_at else None

    def warn(message: str) -> None:
        click.echo(clean(message), err=True)

    report = ImportReport()
    try:
        snapshots = read_paths(paths, report, warn, _raw_readers(url, when))
    except UnreadablePath as exc:
        raise UserError(str(exc), 2) from exc
    record_snapshots(engine(ctx, writer=True, must_exist=False), snapshots, report, url, warn)
    counts = {"imported": report.imported, "unchanged": report.unchanged, "skipped": report.skipped,
              "events": report.events, "rules": report.rules, "templates": report.templates}
    if as_json:
        emit_json(counts)
    else:
        click.echo(f"imported {report.imported} versions, unchanged {report.unchanged}, skipped {report.skipped}"
                   + "".join(f", {k} {v}" for k, v in list(counts.items())[3:] if v))


def _raw_readers(url: str | None, captured_at: datetime | None) -> dict[str, Any]:
    """Readers for raw pages and WARCs, which need the extractor (loaded only when such a file is read)."""

    def html(path: Path) -> Any:
        if captured_at is None:
            raise UserError(f"{clean(str(path))} is a saved page: pass --captured-at WHEN (when it was captured; "
                            "the file's modification time is not evidence)", 2)
        from scraper.imports import read_html
        return read_html(path, captured_at, url)

    def warc(path: Path) -> Any:
        from scraper.imports import read_warc
        return read_warc(path)

    return {".html": html, ".htm": html, ".warc": warc, ".warc.gz": warc}


def _captured_at(value: str) -> datetime:
    """A saved page's capture time: ISO 8601 (UTC unless it has a zone), never in the future."""
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UserError(f"bad --captured-at {value!r}; give an ISO 8601 time such as 2024-12-05T09:30Z", 2) from exc
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    if when > datetime.now(UTC):
        raise UserError(f"--captured-at {value} is in the future", 2)
    return when


COMMANDS = [export, import_cmd]
