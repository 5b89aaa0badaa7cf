"""``redline search`` (registered on the group through ``COMMANDS``)."""
from __future__ import annotations

import click

from redline.options import csv_option, engine, handles_errors, json_option, one_format, parse_since
from redline.output import emit_csv, emit_json


@click.command()
@click.argument("phrase")
@click.option("--site", metavar="HOST", help="Only articles of this site (www.example.com).")
@click.option("--since", metavar="WHEN", help="Only versions captured since WHEN (7d, 12h, 2024-12-05).")
@click.option("--removed", is_flag=True, help="Articles that said it once and no longer do (the last version that did).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@json_option
@csv_option
@click.pass_context
@handles_errors
def search(ctx: click.Context, phrase: str, site: str | None, since: str | None, removed: bool, limit: int,
           as_json: bool, csv: bool | None) -> None:
    """Find every version whose headline, byline or text contains PHRASE (its words, in order; no
    stemming; case and accents ignored), most recently recorded first.

    \b
    redline search "liquid water"
    redline search "produced with the assistance" --site www.example.com --since 30d
    redline search "no evidence" --removed          # which articles stopped saying it
    """
    from archive.queries import json_shapes
    from archive.queries import search as run_search
    from archive.text.normalize import check_host
    from redline.render import print_hits

    one_format(as_json, csv)
    site = check_host(site) if site else None  # a URL or host:port would match nothing, silently
    hits = run_search(engine(ctx), phrase, site=site, since=parse_since(since) if since else None, removed=removed,
                      limit=limit)
    if as_json:
        emit_json([json_shapes.search_hit(h) for h in hits])
    elif csv is not None:
        emit_csv([json_shapes.search_hit(h) for h in hits], csv)
    else:
        print_hits(hits)


COMMANDS = [search]
