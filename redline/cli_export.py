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
    from pathlib import Path

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
@click.option("--captured-at", metavar="TIME", help="When a saved HTML page was captured (ISO 8601; UTC unless "
                                                    "it has a zone). Required for .html files.")
@json_option
@click.pass_context
@handles_errors
def import_cmd(ctx: click.Context, paths: tuple[str, ...], url: str | None, captured_at: str | None,
               as_json: bool) -> None:
    """Import text snapshots (Redline exports, older archives' files) and saved HTML pages as versions.

    Reads Redline's txt, md and jsonl exports and folders of earlier archives' text files;
    each becomes a version at its recorded time. Identical text is unchanged, not duplicated.
    A saved HTML page (.html, given as a file) is extracted as a fetched page is, and needs
    --url and --captured-at (its file time says when it was copied, not captured).

    \b
    redline import out/
    redline import snapshots/ --url https://example.com/news/story
    redline import story.html --url https://example.com/news/story --captured-at 2024-12-05T09:30Z
    """
    from archive.store.importer import HTML_SUFFIXES, ImportReport, UnreadablePath, read_paths, record_snapshots

    check_urls((url,) if url else ())
    pages = [Path(p) for p in paths if Path(p).suffix.lower() in HTML_SUFFIXES and Path(p).is_file()]

    def warn(message: str) -> None:
        click.echo(clean(message), err=True)

    report = ImportReport()
    try:
        snapshots = read_paths([p for p in paths if Path(p) not in pages], report, warn)
        snapshots += _html_snapshots(pages, url, captured_at)
    except UnreadablePath as exc:
        raise UserError(str(exc), 2) from exc
    record_snapshots(engine(ctx, writer=True, must_exist=False), snapshots, report, url, warn)
    if as_json:
        emit_json({"imported": report.imported, "unchanged": report.unchanged, "skipped": report.skipped})
    else:
        click.echo(f"imported {report.imported} versions, unchanged {report.unchanged}, skipped {report.skipped}")


def _html_snapshots(pages: list[Path], url: str | None, captured_at: str | None) -> list[Any]:
    """Saved HTML pages, extracted (in ``scraper``: the archive cannot run the extractor)."""
    if not pages:
        return []
    if not url or not captured_at:
        raise UserError(f"{pages[0]} is a saved HTML page: give its --url and --captured-at TIME "
                        "(a file's time is when it was copied, not when the page was captured)", 2)
    try:
        when = datetime.fromisoformat(captured_at.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UserError(f"bad --captured-at {captured_at!r}; give an ISO 8601 time such as 2024-12-05T09:30Z",
                        2) from exc
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    if when > datetime.now(UTC):
        raise UserError(f"--captured-at {captured_at} is in the future", 2)
    from scraper.import_html import html_snapshot

    return [html_snapshot(page, url, when) for page in pages]


COMMANDS = [export, import_cmd]
