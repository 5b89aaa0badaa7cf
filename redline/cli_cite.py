"""``redline cite`` and ``redline verify`` (registered on the group through ``COMMANDS``); the work is in
archive.cite and archive.verify."""
from __future__ import annotations

from typing import TYPE_CHECKING

import click

from redline.options import NEGATIVE_NUMBERS, UserError, engine, handles_errors, json_option
from redline.output import clean, emit_json

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from archive.proof.verify import Report


@click.command(context_settings=NEGATIVE_NUMBERS)
@click.argument("url")
@click.argument("old", required=False, type=int)
@click.argument("new", required=False, type=int)
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
              help="The WACZ file to write (FILE.wacz).")
@json_option
@click.pass_context
@handles_errors
def cite(ctx: click.Context, url: str, old: int | None, new: int | None, output: str, as_json: bool) -> None:
    """Write a citable evidence bundle (WACZ) for one change: previous -> latest, or OLD -> NEW.

    It holds the raw captures behind both versions and the article's first capture (WARC), the
    texts and the diff, the chain segment proving them, timestamps, and a citation.md telling a
    reader how to check every hash. Re-running on the same versions writes the same bytes. OLD must
    have been captured before NEW.

    \b
    redline cite https://example.com/news/story -o story.wacz
    redline cite https://example.com/news/story 1 3 -o story-v1-v3.wacz
    """
    from pathlib import Path

    from archive.proof.cite import write_citation
    from redline.web.templating import diff_document

    if not output.endswith(".wacz"):
        raise UserError(f"output {output} must end in .wacz", 2)
    if old is not None and new is None:
        new = -1
    result = write_citation(engine(ctx), url, old, new, Path(output), diff_html=diff_document)
    if as_json:
        emit_json(result)
    else:
        click.echo(f"cited {clean(result['url'])} v{result['from']} -> v{result['to']} in {clean(output)}  "
                   f"captures {result['captures']}  chain {result['head']}")
        if result["imported"]:
            click.echo(f"note: records imported from {', '.join(result['imported'])} files are cited; this archive "
                       "did not observe them, and citation.md says so")


@click.command()
@click.option("--article", "url", metavar="URL", help="Check only this article's records (and the whole chain).")
@click.option("--head", "head_only", is_flag=True, help="Print the current chain head, a commitment to publish.")
@click.option("--published", "published", metavar="HEAD", multiple=True,
              help="A head printed by --head earlier (repeatable): the chain must still hold it.")
@json_option
@click.pass_context
@handles_errors
def verify(ctx: click.Context, url: str | None, head_only: bool, published: tuple[str, ...], as_json: bool) -> None:
    """Check that the archive was not altered; exit 1 naming each broken record.

    Recomputes every raw body's sha256, every version's text and its hash, every recorded fetch,
    version (with its change kinds, declared flag and declared times) and event against the
    tamper-evident chain, the chain itself, the stored RFC 3161 timestamps (REDLINE_TSA_CA names a
    PEM root to check their issuer) and the heads given with --published. Rows after the last
    timestamp or published head are reported as unanchored: a deleted tail there would not show.

    \b
    redline verify
    redline verify --article https://example.com/news/story
    redline verify --head          # publish or e-mail this string to yourself
    redline verify --published redline-chain:1234:9f2c...   # a head published earlier
    """
    from archive.proof import chain
    from archive.proof.timestamps import trusted_roots
    from archive.proof.verify import parse_head
    from archive.proof.verify import verify as run_verify

    try:
        heads = [parse_head(text) for text in published]
    except ValueError as exc:
        raise UserError(f"--published: {exc}", 2) from exc
    eng = engine(ctx)
    if head_only:
        with eng.connect() as conn:
            seq, digest = chain.head(conn)
        if as_json:
            emit_json({"head": chain.head_string(seq, digest), "seq": seq, "digest": digest})
        else:
            click.echo(chain.head_string(seq, digest))
        return
    report = run_verify(eng, _article_id(eng, url) if url else None, trusted_roots(), heads)
    if as_json:
        emit_json(report.as_dict())
    else:
        _print_report(report)
    if report.problems:
        ctx.exit(1)


def _article_id(eng: Engine, url: str) -> int:
    from archive.queries import article

    return article(eng, url).id


def _print_report(report: Report) -> None:
    from archive.proof.chain import head_string

    if report.problems:
        click.echo(f"FAILED: {len(report.problems)} problem(s); first: {clean(str(report.problems[0]))}")
        for problem in report.problems[1:]:
            click.echo(f"  {clean(str(problem))}")
    else:
        click.echo("ok: nothing was altered")
    click.echo(f"checked {report.links} chain links, {report.bodies} raw bodies, {report.versions} versions, "
               f"{report.screenshots} screenshots, {report.timestamps} timestamps")
    click.echo(f"head: {head_string(*report.head)}")
    if report.unanchored:
        click.echo(f"rows {report.anchored + 1}-{report.head[0]} are anchored by no timestamp or published head: "
                   "deleting them would leave no trace (publish 'redline verify --head', or set REDLINE_TSA_URL)")
    if report.imported:
        click.echo(f"{report.imported} versions were imported from files, not fetched by this archive: the chain "
                   "proves they are unchanged since the import, not what the pages said at those times")
    if report.backfilled:
        click.echo(f"{report.backfilled} records predate the chain: they were chained when the archive was "
                   "upgraded, not as they were captured")


COMMANDS = [cite, verify]
