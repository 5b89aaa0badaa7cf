"""The ``redline`` command. Each command parses arguments and calls one function;
view commands import no crawler code, so they start fast."""
from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from redline.output import clean, color_enabled, emit_json, table


class UserError(click.ClickException):
    """A one-line error; exit status 1, or 2 when the input itself is malformed."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def handles_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn archive errors into one-line messages instead of tracebacks."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from archive.db import ArchiveError
        from sqlalchemy.exc import OperationalError

        try:
            return func(*args, **kwargs)
        except ArchiveError as exc:
            raise UserError(str(exc)) from exc
        except OperationalError as exc:
            raise UserError(f"database error: {str(exc.orig).splitlines()[0]}") from exc
    return wrapper


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def engine(ctx: click.Context, *, writer: bool = False, must_exist: bool = True) -> Any:
    from archive.db import database_url, open_engine

    return open_engine(database_url(ctx.obj["db"]), writer=writer, must_exist=must_exist)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    cli(prog_name="redline")


# -- crawl ------------------------------------------------------------------------------------------

def read_urls(urls: tuple[str, ...], urls_file: str | None) -> list[str]:
    """URLs from arguments and a file (one per line, # comments), validated."""
    from archive.normalize import BadURL, url_key

    found = list(urls)
    if urls_file:
        try:
            text = sys.stdin.read() if urls_file == "-" else Path(urls_file).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read URL file {urls_file}: {getattr(exc, 'strerror', None) or exc}", 2)
        found += [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for url in found:
        try:
            url_key(url)
        except BadURL as exc:
            raise UserError(f"{exc}; URLs must start with http:// or https://", 2) from exc
    if not found:
        raise UserError("no URLs given; pass URLs or --urls-file FILE", 2)
    return list(dict.fromkeys(found))


def parse_settings(pairs: tuple[str, ...]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UserError(f"bad setting {pair!r}; use -s NAME=VALUE", 2)
        settings[name] = value
    return settings


@cli.command()
@click.argument("urls", nargs=-1)
@click.option("--urls-file", metavar="FILE", help="Read URLs from FILE, one per line ('-' for stdin).")
@click.option("-s", "settings", multiple=True, metavar="NAME=VALUE", help="Scrapy setting, as 'scrapy crawl -s'.")
@click.option("--queue", is_flag=True, help="Queue the URLs for 'redline worker' instead (PostgreSQL only).")
@json_option
@click.pass_context
@handles_errors
def crawl(ctx: click.Context, urls: tuple[str, ...], urls_file: str | None, settings: tuple[str, ...],
          queue: bool, as_json: bool) -> None:
    """Fetch each URL once and record a new version, an unchanged mark or an event.

    \b
    redline crawl https://example.com/a https://example.com/b
    redline crawl --urls-file watch.txt -s DOWNLOAD_DELAY=5
    redline crawl --queue --urls-file watch.txt      # for the workers
    """
    from archive.db import database_url
    from archive.outcomes import summarize
    from redline.progress import crawl_with_progress

    targets = read_urls(urls, urls_file)
    if queue:
        if settings:
            raise UserError("-s does not apply with --queue; give Scrapy settings to 'redline worker -s'", 2)
        from redline.cli_queue import enqueue_urls

        return enqueue_urls(ctx.obj["db"], targets, as_json)
    overrides = parse_settings(settings)
    overrides.setdefault("LOG_LEVEL", "WARNING")
    engine(ctx, writer=True, must_exist=False).dispose()  # create and migrate before the crawl
    counts = crawl_with_progress(targets, database_url(ctx.obj["db"]), overrides)
    summary = summarize(counts)
    if as_json:
        emit_json(summary)
    else:
        click.echo("fetched {fetched}  new articles {new_articles}  new versions {new_versions}  "
                   "unchanged {unchanged}  failed {failed}".format(**summary))


# -- views ------------------------------------------------------------------------------------------

def parse_since(value: str) -> datetime:
    """``7d``, ``12h``, ``30m`` ago, or an ISO date/time (UTC when no zone is given)."""
    match = re.fullmatch(r"(\d+)\s*([smhdw])", value.strip())
    if match:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[match.group(2)]
        return datetime.now(UTC) - timedelta(**{unit: int(match.group(1))})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise UserError(f"bad time {value!r}; use e.g. 7d, 12h or 2024-12-05", 2) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@cli.command("list")
@click.option("--changed-since", metavar="WHEN", help="Only articles changed since WHEN (7d, 12h, 2024-12-05).")
@json_option
@click.pass_context
@handles_errors
def list_cmd(ctx: click.Context, changed_since: str | None, as_json: bool) -> None:
    """List archived articles, most recently changed first.

    \b
    redline list --changed-since 7d --json
    """
    from archive.views import list_articles

    since = parse_since(changed_since) if changed_since else None
    rows = list_articles(engine(ctx), since)
    if as_json:
        emit_json(rows)
        return
    table(["status", "versions", "last changed", "url", "title"],
          [[r["status"], r["versions"], r["last_changed"] or "-", r["url"], r["title"] or ""] for r in rows])


@cli.command()
@click.argument("url")
@click.option("--stealth", is_flag=True, help="Only edits made without moving the update stamp.")
@click.option("--declared", is_flag=True, help="Only versions whose declared update time moved.")
@click.option("--all", "every_fetch", is_flag=True,
              help="Every fetch too, with what noise rules skipped in it; --json then prints "
                   "{versions, events, fetches}.")
@json_option
@click.pass_context
@handles_errors
def log(ctx: click.Context, url: str, stealth: bool, declared: bool, every_fetch: bool, as_json: bool) -> None:
    """Show an article's versions and fetch events, oldest first.

    \b
    redline log https://example.com/news/story --stealth
    redline log https://example.com/news/story --all     # audit the noise rules
    """
    from archive.views import fetch_log
    from archive.views import log as article_log

    db = engine(ctx)
    versions, events = article_log(db, url, detail=every_fetch)
    if stealth or declared:
        versions = [v for v in versions if v["change"] and (
            (stealth and v["change"]["stealth"]) or (declared and v["change"]["declared"]))]
        events = []
    fetches = fetch_log(db, url) if every_fetch else []
    if as_json:
        if every_fetch:
            emit_json({"versions": versions, "events": events, "fetches": fetches})
        else:
            emit_json(sorted(versions + events, key=lambda entry: entry.get("captured_at") or entry["at"]))
        return
    _print_log(versions, events, fetches)


def _print_log(versions: list[dict[str, Any]], events: list[dict[str, Any]], fetches: list[dict[str, Any]]) -> None:
    rows = [[v["captured_at"], f"v{v['version']}", _describe(v["change"]), v["words"], v["title"] or ""]
            for v in versions]
    rows += [[e["at"], "event", e["event"], "", e["detail"] or ""] for e in events]
    rows += [[f["at"], "fetch", f"{f['fetch']} (HTTP {f['status']})" if f["status"] else f["fetch"], "",
              _skipped(f["noise"])] for f in fetches]
    rows.sort(key=lambda row: row[0])
    table(["time", "what", "change", "words", "title / detail"], rows)


def _skipped(noise: list[dict[str, str]]) -> str:
    """What noise rules skipped in one fetch, one line per paragraph."""
    return "\n".join(f"{'+' if n['change'] == 'added' else '-'} [{n['rule']}] {n['text']}" for n in noise)


def _describe(change: dict[str, Any] | None) -> str:
    if change is None:
        return "first capture"
    parts = [", ".join(change["kinds"]), f"+{change['added_words']}/-{change['removed_words']} words"]
    parts.append("declared" if change["declared"] else "stealth" if change["stealth"] else "")
    if change.get("reverts_to"):
        parts.append(f"flip-flop: back to v{change['reverts_to']}")
    if change.get("extractor_drift"):
        parts.append("extractor drift")
    if change.get("recovered_at"):
        parts.append(f"recovered by renoise at {change['recovered_at']}")
    return "; ".join(p for p in parts if p)


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
    from archive.views import show as show_version

    data = show_version(engine(ctx), url, number)
    if as_json:
        emit_json(data)
        return
    for key in ("title", "byline", "published", "updated", "captured_at", "version", "url"):
        click.echo(f"{key}: {clean(data[key])}")
    click.echo()
    click.echo(clean_keep_newlines(data["text"], color=False))


@cli.command()
@click.argument("url")
@click.argument("old", required=False, type=int)
@click.argument("new", required=False, type=int)
@click.option("--format", "fmt", type=click.Choice(["words", "unified"]), default="words", show_default=True)
@click.option("--with-noise", is_flag=True, help="Include noise paragraphs (counters, teasers, templates).")
@json_option
@click.pass_context
@handles_errors
def diff(ctx: click.Context, url: str, old: int | None, new: int | None, fmt: str, with_noise: bool,
         as_json: bool) -> None:
    """Show what changed between two versions (default: previous -> latest).

    \b
    redline diff https://example.com/news/story          # word-level
    redline diff https://example.com/news/story 1 3 --format unified | delta
    """
    from archive.diff import Styler, render_words, unified
    from archive.views import diff as version_diff

    if old is not None and new is None:
        new = -1
    data = version_diff(engine(ctx), url, old, new, with_noise)
    if as_json:
        emit_json({k: v for k, v in data.items() if not k.startswith("_")})
        return
    if fmt == "unified":
        label = data["url"].split("://", 1)[-1]
        click.echo(unified(data["_old_text"], data["_new_text"], f"a/{label}@v{data['from']}",
                           f"b/{label}@v{data['to']}"), nl=False)
        return
    styler = Styler(color_enabled())
    click.echo(f"{clean(data['url'])}: v{data['from']} ({data['from_captured_at']}) -> "
               f"v{data['to']} ({data['to_captured_at']})")
    if data["title"]["old"] != data["title"]["new"]:
        click.echo("title: " + styler(_title_op(data["title"])))
    click.echo()
    click.echo(clean_keep_newlines(render_words(data["_ops"], styler), styler.color))


def _title_op(title: dict[str, str | None]) -> Any:
    from archive.diff import Op

    return Op("replace", clean(title["old"]), clean(title["new"]))


def clean_keep_newlines(text: str, color: bool) -> str:
    """Strip control characters from diff output, keeping newlines and our own colour codes."""
    if color:
        return re.sub(r"\x1b(?!\[[0-9;]*m)|[\x00-\x09\x0b-\x1a\x1c-\x1f\x7f-\x9f]", "", text)
    return re.sub(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", "", text)


@cli.command()
@click.pass_context
@handles_errors
def demo(ctx: click.Context) -> None:
    """Run Redline end to end, offline: serve sample news pages and their RSS feed on 127.0.0.1,
    run a scheduled job that follows the feed, edit some pages, run it again, then print a
    history, a word-level diff and the run history.

    Uses --db if given, otherwise ./redline-demo.db (recreated each run).

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
    from collections import Counter

    from scraper.reextract import reextract as run

    outcomes = run(engine(ctx, writer=True), urls)
    if urls and not outcomes:
        raise UserError("no stored capture for the given URLs; see 'redline list'")
    counts = Counter(o.kind for o in outcomes)
    summary = {"checked": len(outcomes), "unchanged": counts["unchanged"], "drift": counts["drift"],
               "failed": counts["extract-failed"]}
    if as_json:
        emit_json(summary)
    else:
        click.echo("checked {checked}  unchanged {unchanged}  extractor drift {drift}  failed {failed}"
                   .format(**summary))


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
    if urls and site:
        raise UserError("give URLs or --site, not both", exit_code=2)
    outcome = _renoise(ctx, urls, site)
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


@cli.group()
def ignore() -> None:
    """Per-site ignore rules: paragraphs matching a rule never make a new version.

    \b
    redline ignore add www.example.com '^Sponsored: '
    redline ignore list
    """


@ignore.command("add")
@click.argument("host")
@click.argument("pattern")
@click.pass_context
@handles_errors
def ignore_add(ctx: click.Context, host: str, pattern: str) -> None:
    """Ignore paragraphs on HOST matching the regular expression PATTERN.

    \b
    redline ignore add www.example.com '^Listen to this article'
    """
    from archive.rules import add_rule

    add_rule(engine(ctx.parent.parent, writer=True, must_exist=False), host, pattern)


@ignore.command("remove")
@click.argument("host")
@click.argument("pattern")
@click.pass_context
@handles_errors
def ignore_remove(ctx: click.Context, host: str, pattern: str) -> None:
    """Remove a rule added with 'redline ignore add'.

    \b
    redline ignore remove www.example.com '^Listen to this article'
    """
    from archive.rules import remove_rule

    remove_rule(engine(ctx.parent.parent, writer=True), host, pattern)


@ignore.command("list")
@json_option
@click.pass_context
@handles_errors
@click.option("--learned", is_flag=True, help="With --json: the learned template paragraphs instead of the rules.")
def ignore_list(ctx: click.Context, as_json: bool, learned: bool) -> None:
    """List ignore rules, then the template paragraphs Redline learned, with their evidence.

    \b
    redline ignore list
    redline ignore list --json              # the rules
    redline ignore list --learned --json    # the learned templates
    """
    from archive.rules import list_rules, list_templates

    db = engine(ctx.parent.parent)
    if as_json:
        emit_json(list_templates(db) if learned else list_rules(db))
        return
    if not learned:
        table(["host", "pattern"], [[r["host"], r["pattern"]] for r in list_rules(db)])
        click.echo()
    click.echo("learned template paragraphs (forget one with 'redline ignore forget HOST HASH'):")
    table(["host", "hash", "first seen", "articles", "text", "examples"],
          [[t["host"], t["hash"], t["first_seen"],
            f"{t['articles']} of {t['of_articles']}" if t["articles"] else "(no evidence kept)",
            t["text"] or "", "\n".join(t["examples"])] for t in list_templates(db)])


@ignore.command("forget")
@click.argument("host")
@click.argument("digest", metavar="HASH", required=False)
@click.option("--all-learned", is_flag=True, help="Forget every template paragraph learned for HOST.")
@click.pass_context
@handles_errors
def ignore_forget(ctx: click.Context, host: str, digest: str | None, all_learned: bool) -> None:
    """Forget a learned template paragraph, then re-evaluate the site's articles ('redline renoise --site').

    \b
    redline ignore forget www.example.com 3f2a9c0d11e4b5a6
    redline ignore forget www.example.com --all-learned
    """
    from archive.rules import forget_templates

    if bool(digest) == all_learned:
        raise UserError("give a template HASH or --all-learned (see 'redline ignore list')", exit_code=2)
    gone = forget_templates(engine(ctx.parent.parent, writer=True), host, digest)
    outcome = _renoise(ctx.parent.parent, (), host)
    click.echo(f"forgot {gone} template paragraph(s) of {host}; re-evaluated {outcome.articles} article(s), "
               f"recovered {len(outcome.recovered)} version(s)")



from redline import cli_export  # noqa: E402  (it imports helpers defined above)

cli.add_command(cli_export.export)
cli.add_command(cli_export.import_cmd)

from redline import cli_schedule  # noqa: E402

cli.add_command(cli_schedule.schedule)
cli.add_command(cli_schedule.scheduler)
cli.add_command(cli_schedule.runs)
cli.add_command(cli_schedule.due)

from redline import cli_queue  # noqa: E402

cli.add_command(cli_queue.worker)
