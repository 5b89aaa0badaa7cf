"""The ``redline`` command. Each command parses arguments and calls one function;
view commands import no crawler code, so they start fast."""
from __future__ import annotations

import sys
from typing import Any

import click

from redline import (
    cli_alert,
    cli_cite,
    cli_export,
    cli_ignore,
    cli_queue,
    cli_repack,
    cli_schedule,
    cli_screenshot,
    cli_search,
    cli_serve,
    cli_site,
)
from redline.options import (
    NEGATIVE_NUMBERS,
    OneLineErrors,
    UserError,
    accept_db_after,
    check_render,
    check_urls,
    csv_option,
    db_url,
    engine,
    handles_errors,
    json_option,
    one_format,
    parse_settings,
    parse_since,
    read_urls,
    render_option,
)
from redline.output import clean, emit_csv, emit_json


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", metavar="URL",
              help="SQLite file or SQLAlchemy URL [env REDLINE_DB; default ./redline.db].")
@click.version_option(package_name="redline")
@click.pass_context
def cli(ctx: click.Context, db: str | None) -> None:
    """Redline: watch news articles, keep every distinct version, and show what changed.

    \b
    redline crawl https://example.com/news/story     # fetch and record
    redline log https://example.com/news/story       # its versions and events
    redline diff https://example.com/news/story      # previous -> latest, word by word
    """
    ctx.obj = {"db": db}


def main() -> None:
    """The ``redline`` command; it leaves without the interpreter's teardown (``scraper.process``)."""
    from scraper.process import leave

    try:
        cli(prog_name="redline")
    except SystemExit as exc:  # click always ends this way; anything else is a bug and keeps its traceback
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
        leave(exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1)


# -- crawl ------------------------------------------------------------------------------------------

@cli.command()
@click.argument("urls", nargs=-1)
@click.option("--urls-file", metavar="FILE",
              help="Read URLs from FILE, one per line, '#' starts a comment ('-' for stdin).")
@click.option("-s", "settings", multiple=True, metavar="NAME=VALUE", help="Scrapy setting, as 'scrapy crawl -s'.")
@click.option("--queue", is_flag=True, help="Queue the URLs for 'redline worker' instead (PostgreSQL only).")
@click.option("--screenshot", is_flag=True,
              help="After the writes, take a screenshot of every new version in Chromium, from its archived body.")
@click.option("-v", "--verbose", is_flag=True, help="Log Scrapy's progress, with tracebacks of failed downloads.")
@render_option
@json_option
@click.pass_context
@handles_errors
def crawl(ctx: click.Context, urls: tuple[str, ...], urls_file: str | None, settings: tuple[str, ...],
          queue: bool, screenshot: bool, verbose: bool, render: str | None, as_json: bool) -> None:
    """Fetch each URL once and record a new version, an unchanged mark or an event.

    URLs may be given as article IDs from 'redline list'. Exits 1 when no URL could be fetched, or no
    page fetched held an article Redline could extract (each failure says why).
    Ctrl-C (or SIGTERM) sends no more requests, writes everything fetched and exits 130 (143);
    a second one stops at once, still writing what was fetched and extracted.

    \b
    redline crawl https://example.com/a https://example.com/b
    redline crawl --urls-file watch.txt -s DOWNLOAD_DELAY=5
    redline crawl --screenshot https://example.com/a
    redline crawl --queue --urls-file watch.txt      # for the workers
    redline crawl --render js https://example.com/app-story   # through a browser (the browser extra)
    """
    targets = read_urls(urls, urls_file, ids=True)
    if queue:
        if settings or screenshot or render:
            raise UserError("-s, --screenshot and --render do not apply with --queue; give Scrapy settings to "
                            "'redline worker -s'", 2)
        from redline.cli_queue import enqueue_urls

        return enqueue_urls(ctx.obj["db"], targets, as_json)
    from scraper.process import INTERRUPTS

    INTERRUPTS.catch(leave_on_second="interrupted twice while starting: nothing was fetched")
    from archive.crawls import CrawlResult
    from redline.progress import FailureLog, crawl_with_progress, summary_line
    from redline.render import print_learning
    from scraper.pool import start_forkserver

    overrides = parse_settings(settings)
    if render:
        overrides["REDLINE_RENDER"] = render
    check_render(overrides)
    overrides.setdefault("LOG_LEVEL", "INFO" if verbose else "ERROR")  # failures are listed below the summary
    if screenshot:
        overrides["REDLINE_SCREENSHOT"] = "True"
    start_forkserver()  # beside the start-up below, not after it
    db = engine(ctx, writer=True, must_exist=False)  # create and migrate before the crawl
    targets = _article_urls(db, targets)
    db.dispose()
    failures = FailureLog(verbose)
    result = CrawlResult() if INTERRUPTS.signum else crawl_with_progress(targets, db_url(ctx), overrides, failures)
    INTERRUPTS.catch()  # the crawl is over and written: a signal now only makes it report
    summary = {**result.summary(), "gone": result.outcomes.get("gone", 0),
               "failures": failures.described(engine(ctx)), "interrupted": _interrupted(len(targets), result)}
    if as_json:
        emit_json(summary)
    else:
        click.echo(summary_line(summary))
        for failure in summary["failures"][:SHOWN_FAILURES]:
            click.echo(f"  {failure['outcome']}: {clean(failure['url'])}  {clean(failure['reason'] or '')}")
        if len(summary["failures"]) > SHOWN_FAILURES:
            click.echo(f"  ... and {len(summary['failures']) - SHOWN_FAILURES} more (--json lists them all)")
        print_learning(summary["templates_learned"], summary["site_wide"])
        if summary["screenshots"]:
            shots = summary["screenshots"]
            click.echo(f"screenshots taken {shots['taken']}  failed {shots['failed']}"
                       + ("  ('redline log URL --all' says why; 'redline screenshot --pending --failed' retakes them)"
                          if shots["failed"] else ""))
    if summary["interrupted"]:
        stopped = summary["interrupted"]
        if stopped["forced"]:
            click.echo(f"interrupted twice, stopped at once: {result.fetched} fetched and written, "
                       f"{stopped['not_written']} not written", err=True)
        else:
            click.echo(f"interrupted: {result.fetched} fetched and written, {stopped['not_written']} not fetched",
                       err=True)
        ctx.exit(INTERRUPTS.status)
    if targets and not set(result.outcomes) - {"failed"}:
        raise UserError(f"none of the {len(targets)} URL(s) could be fetched", 1)
    if failures.none_extracted(result.outcomes):
        raise UserError(f"no article could be extracted from the {len(targets)} URL(s); each failure says why", 1)


SHOWN_FAILURES = 10


def _interrupted(targets: int, result: Any) -> dict[str, Any] | None:
    """``crawl --json``'s ``interrupted``: the first shutdown signal's name, whether a second one stopped
    the crawl at once, and how many of the URLs have no record of this crawl (each URL records one
    outcome). Without ``forced`` every page fetched was written, so those were never fetched."""
    from scraper.process import INTERRUPTS

    if INTERRUPTS.signum is None:
        return None
    return {"signal": INTERRUPTS.name, "forced": INTERRUPTS.forced, "not_written": targets - result.fetched}


def _article_urls(db: Any, targets: list[str]) -> list[str]:
    """The URLs to fetch, with article IDs replaced by their articles' URLs."""
    from archive import queries

    return list(dict.fromkeys(queries.article(db, t).url if queries.is_short_id(t) else t for t in targets))


# -- views ------------------------------------------------------------------------------------------

@cli.command("list")
@click.option("--changed-since", metavar="WHEN", help="Only articles changed since WHEN (7d, 12h, 2024-12-05).")
@json_option
@csv_option
@click.pass_context
@handles_errors
def list_cmd(ctx: click.Context, changed_since: str | None, as_json: bool, csv: bool | None) -> None:
    """List archived articles, most recently changed first.

    \b
    redline list --changed-since 7d --json
    redline list --csv --bom > articles.csv
    """
    from archive.queries import json_shapes, list_articles
    from redline.render import print_articles

    one_format(as_json, csv)
    since = parse_since(changed_since) if changed_since else None
    rows = list_articles(engine(ctx), changed_since=since).items
    if as_json:
        emit_json([json_shapes.article(a) for a in rows])
    elif csv is not None:
        emit_csv([json_shapes.article(a) for a in rows], csv)
    else:
        print_articles(rows)


@cli.command()
@click.argument("url")
@click.option("--stealth", is_flag=True, help="Only edits made without moving the update stamp.")
@click.option("--declared", is_flag=True, help="Only versions whose declared update time moved.")
@click.option("--all", "every_fetch", is_flag=True,
              help="Every fetch too, with what noise rules skipped in it; --json then prints "
                   "{versions, events, fetches}.")
@click.option("--events", "with_events", is_flag=True,
              help="With --json: fetch events ({event, at, detail}) among the versions, by time.")
@json_option
@csv_option
@click.pass_context
@handles_errors
def log(ctx: click.Context, url: str, stealth: bool, declared: bool, every_fetch: bool, with_events: bool,
        as_json: bool, csv: bool | None) -> None:
    """Show an article's versions and fetch events, oldest first (URL or article ID).

    --json prints the versions only; add --events for the fetch events too.

    \b
    redline log https://example.com/news/story --stealth
    redline log https://example.com/news/story --all     # audit the noise rules
    redline log 5bd48fa661 --json --events
    redline log 5bd48fa661 --csv > versions.csv    # one row per version, its change flattened
    """
    from archive import queries
    from archive.queries import json_shapes
    from archive.queries.rules import templates_among
    from redline.render import print_log

    one_format(as_json, csv)
    with engine(ctx).connect() as conn:
        ref = queries.article(conn, url)
        versions = queries.versions(conn, url, stealth=stealth, declared=declared).items
        events = [] if stealth or declared else queries.events(conn, url).items
        fetches = queries.fetches(conn, url) if every_fetch else []
        related = queries.related(conn, ref)
        skipped = [n["text"] for f in fetches for n in f.noise if n["rule"] == "template"]
        learned = templates_among(conn, ref.host, skipped) if skipped else []
    if as_json:
        emit_json(json_shapes.full_log(versions, events, fetches, related, learned) if every_fetch else
                  json_shapes.log(versions, events if with_events else []))
    elif csv is not None:
        emit_csv([json_shapes.version(v) for v in versions], csv)
    elif not versions and (stealth or declared):
        wanted = " or ".join(w for w, on in (("stealth edits", stealth), ("declared updates", declared)) if on)
        click.echo(f"no {wanted} among the versions of {clean(url)}; 'redline log {clean(url)}' shows them all")
    else:
        print_log(versions, events, fetches, ref.url, related, learned)


@cli.command()
@click.argument("url")
@click.option("--version", "number", type=int, help="Version number (negative counts back; default latest).")
@json_option
@click.pass_context
@handles_errors
def show(ctx: click.Context, url: str, number: int | None, as_json: bool) -> None:
    """Print one version of an article: its metadata, then its text.

    \b
    redline show https://example.com/news/story --version 1
    """
    from archive.queries import json_shapes
    from archive.queries import show as show_version
    from redline.render import print_version

    detail = show_version(engine(ctx), url, number)
    if as_json:
        emit_json(json_shapes.show(detail))
    else:
        print_version(detail)


@cli.command(context_settings=NEGATIVE_NUMBERS)
@click.argument("url")
@click.argument("old", required=False, type=int)
@click.argument("new", required=False, type=int)
@click.option("--format", "fmt", type=click.Choice(["words", "unified"]), default="words", show_default=True)
@click.option("--with-noise", is_flag=True, help="Include noise paragraphs (counters, teasers, templates).")
@click.option("--context", "with_context", is_flag=True,
              help="With --json: each change's paragraph number and the sentence around it.")
@json_option
@click.pass_context
@handles_errors
def diff(ctx: click.Context, url: str, old: int | None, new: int | None, fmt: str, with_noise: bool,
         with_context: bool, as_json: bool) -> None:
    """Show what changed between two versions (default: previous -> latest), in each version's own
    words. OLD must have been captured before NEW (exit 2 otherwise).

    \b
    redline diff https://example.com/news/story          # word-level
    redline diff https://example.com/news/story 1 3 --format unified | delta
    redline diff https://example.com/news/story -2 -1 --json --context
    """
    from archive.queries import diff as version_diff
    from archive.queries import json_shapes
    from redline.render import print_diff

    if old is not None and new is None:
        new = -1
    result = version_diff(engine(ctx), url, old, new, with_noise=with_noise)
    if as_json:
        emit_json(json_shapes.diff(result, with_context))
    else:
        print_diff(result, fmt)


@cli.command()
@click.pass_context
@handles_errors
def demo(ctx: click.Context) -> None:
    """Run Redline end to end, offline: serve sample news pages and their RSS feed on 127.0.0.1,
    run a scheduled job that follows the feed, edit some pages, run it again, then print a
    history, a word-level diff and the run history.

    Uses --db if given (a new file, or an earlier demo's archive: any other archive is refused),
    otherwise ./redline-demo.db (recreated each run). The demo's job is left paused.

    \b
    redline demo
    redline --db /tmp/demo.db demo
    """
    from redline.demo import run_demo

    run_demo(ctx.obj["db"] or "redline-demo.db", fresh=ctx.obj["db"] is None)


@cli.command()
@click.argument("urls", nargs=-1)
@json_option
@click.pass_context
@handles_errors
def reextract(ctx: click.Context, urls: tuple[str, ...], as_json: bool) -> None:
    """Run the current extractor again on stored raw captures (all articles, or the URLs given).

    Text that changes only because the extractor changed is recorded as a version
    marked "extractor drift", never as a publisher's edit.

    \b
    redline reextract
    redline reextract https://example.com/news/story
    """
    from archive.queries import json_shapes, reextract_summary
    from scraper.reextract import reextract as run

    check_urls(urls, ids=True)
    outcomes = run(engine(ctx, writer=True), urls)
    if urls and not outcomes:
        raise UserError("no stored capture for the given URLs; see 'redline list'")
    summary = reextract_summary(o.kind for o in outcomes)
    if as_json:
        emit_json(json_shapes.reextract(summary))
    else:
        click.echo(f"checked {summary.checked}  unchanged {summary.unchanged}  extractor drift {summary.drift}  "
                   f"failed {summary.failed}")


@cli.command()
@click.argument("urls", nargs=-1)
@click.option("--site", metavar="HOST", help="Every article of one site.")
@json_option
@click.pass_context
@handles_errors
def renoise(ctx: click.Context, urls: tuple[str, ...], site: str | None, as_json: bool) -> None:
    """Re-decide, under the current noise rules, which stored captures were real edits.

    Every stored raw capture of the articles is extracted again. A capture that
    differs from the one before it but made no version (because a rule, since
    removed or fixed, skipped the change) gets a version now: the next free
    number, shown at its capture time and marked as recovered. Nothing already
    recorded is changed or renumbered.

    \b
    redline renoise                                  # every article
    redline renoise https://example.com/news/story
    redline renoise --site www.example.com
    """
    from archive.text.normalize import check_host

    if urls and site:
        raise UserError("give URLs or --site, not both", exit_code=2)
    check_urls(urls, ids=True)
    outcome = _renoise(ctx, urls, site and check_host(site))
    if site and not outcome.articles:
        raise UserError(f"no archived article on {clean(site)}; see 'redline list'")
    recovered = [{"url": o.url, "version": o.version, "kinds": o.change_kinds or []} for o in outcome.recovered]
    if as_json:
        emit_json({"articles": outcome.articles, "captures": outcome.captures, "recovered": recovered})
        return
    click.echo(f"re-evaluated {outcome.articles} article(s), {outcome.captures} capture(s); "
               f"recovered {len(recovered)} version(s)")
    for r in recovered:
        click.echo(f"  {clean(r['url'])} v{r['version']} ({', '.join(r['kinds'])})")


def _renoise(ctx: click.Context, urls: tuple[str, ...], site: str | None) -> Any:
    from scraper.renoise import renoise as run

    return run(engine(ctx, writer=True), urls, site)


# Commands defined in their own modules. Each exports COMMANDS and imports only redline.options
# (never this module), so adding one is one import above and one entry here.
for module in (cli_export, cli_schedule, cli_queue, cli_cite, cli_alert, cli_serve, cli_search, cli_ignore,
               cli_repack, cli_screenshot, cli_site):
    for command in module.COMMANDS:
        cli.add_command(command)
accept_db_after(cli)
