"""``redline export`` and ``redline import`` (registered on the group through ``COMMANDS``)."""
from __future__ import annotations

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
@json_option
@click.pass_context
@handles_errors
def import_cmd(ctx: click.Context, paths: tuple[str, ...], url: str | None, as_json: bool) -> None:
    """Import text snapshots (Redline exports, older archives' files) as versions.

    Reads Redline's txt, md and jsonl exports and folders of earlier archives' text files;
    each becomes a version at its recorded time. Identical text is unchanged, not duplicated.

    \b
    redline import out/
    redline import snapshots/ --url https://example.com/news/story
    """
    from archive.store.importer import ImportReport, UnreadablePath, read_paths, record_snapshots

    check_urls((url,) if url else ())

    def warn(message: str) -> None:
        click.echo(clean(message), err=True)

    report = ImportReport()
    try:
        snapshots = read_paths(paths, report, warn)
    except UnreadablePath as exc:
        raise UserError(str(exc), 2) from exc
    record_snapshots(engine(ctx, writer=True, must_exist=False), snapshots, report, url, warn)
    if as_json:
        emit_json({"imported": report.imported, "unchanged": report.unchanged, "skipped": report.skipped})
    else:
        click.echo(f"imported {report.imported} versions, unchanged {report.unchanged}, skipped {report.skipped}")


COMMANDS = [export, import_cmd]
