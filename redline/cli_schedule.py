"""``redline schedule ...``, ``redline scheduler``, ``redline runs`` and ``redline due``
(registered on the group through ``COMMANDS``)."""
from __future__ import annotations

import logging
import signal
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from redline.options import (
    UserError,
    check_render,
    db_url,
    engine,
    handles_errors,
    json_option,
    parse_settings,
    read_urls,
    render_option,
)
from redline.output import emit_json, table

if TYPE_CHECKING:
    from archive.queries import ScheduleEntry


@click.group()
def schedule() -> None:
    """Crawl jobs: what to watch and when. 'redline scheduler' runs them.

    \b
    redline schedule add world --every 30m --feed https://example.com/world/rss.xml
    redline schedule add papers --cron "*/15 6-23 * * *" --tz Europe/Berlin --sitemap https://example.com/news.xml
    redline schedule list
    """


@schedule.command("add")
@click.argument("name")
@click.argument("urls", nargs=-1)
@click.option("--every", metavar="INTERVAL", help="Run every INTERVAL: 45s, 30m, 2h, 1d.")
@click.option("--cron", metavar="EXPR", help='Run on a crontab schedule, e.g. "*/15 6-23 * * *".')
@click.option("--tz", "timezone", metavar="ZONE", help="Time zone of --cron (IANA name) [default UTC].")
@click.option("--feed", "feeds", multiple=True, metavar="URL", help="RSS, Atom or JSON feed to watch (repeatable).")
@click.option("--sitemap", "sitemaps", multiple=True, metavar="URL",
              help="Sitemap, sitemap index or news sitemap to watch (repeatable).")
@click.option("--urls-file", metavar="FILE", help="Also track the URLs in FILE (re-read at every run).")
@click.option("--recheck", metavar="POLICY",
              help="Re-check intervals by age since last change [default 6h:15m,1d:1h,30d:1d,14d].")
@click.option("-s", "settings", multiple=True, metavar="NAME=VALUE", help="Scrapy setting for this job's runs.")
@click.option("--screenshot", is_flag=True, help="Take a screenshot of every new version its runs record.")
@render_option
@click.pass_context
@handles_errors
def add(ctx: click.Context, name: str, urls: tuple[str, ...], every: str | None, cron: str | None,
        timezone: str | None, feeds: tuple[str, ...], sitemaps: tuple[str, ...], urls_file: str | None,
        recheck: str | None, settings: tuple[str, ...], screenshot: bool, render: str | None) -> None:
    """Add a job NAME that watches feeds, sitemaps and URLs on an interval or a cron schedule.

    Each run discovers article URLs from the feeds and sitemaps, adds them to the
    job's tracked articles, and re-checks every tracked article that is due.

    \b
    redline schedule add world --every 30m --feed https://example.com/world/rss.xml
    redline schedule add papers --cron "0 */2 * * *" --tz Europe/Berlin --sitemap https://example.com/news.xml
    redline schedule add watchlist --every 1h --urls-file watch.txt --recheck 6h:15m,1d:1h,30d:1d,14d
    redline schedule add evidence --every 1h --urls-file watch.txt --screenshot
    """
    from archive.clock import utcnow
    from archive.errors import ArchiveError
    from archive.watch.recheck import BadDuration, Policy, parse_duration
    from archive.watch.schedules import InvalidSchedule, JobSpec, validate
    from archive.watch.schedules import add as add_schedule
    from jobs.triggers import build_trigger

    if bool(every) == bool(cron):
        raise UserError("give exactly one of --every INTERVAL or --cron EXPR", 2)
    if timezone and not cron:
        raise UserError("--tz applies to --cron only; intervals do not depend on a time zone", 2)
    spec = JobSpec(name=name, cron=cron, timezone=timezone or "UTC", settings=parse_settings(settings),
                   screenshot=screenshot, render=render)
    check_render({"REDLINE_RENDER": render} if render else {})
    try:
        if every:
            spec.every_seconds = max(1, int(parse_duration(every).total_seconds()))
        spec.recheck = str(Policy.parse(recheck)) if recheck else None
    except BadDuration as exc:
        raise UserError(str(exc), 2) from exc
    try:
        build_trigger(spec.every_seconds, spec.cron, spec.timezone)  # validates cron and zone
    except ArchiveError as exc:
        raise UserError(str(exc), 2) from exc
    spec.feeds, spec.sitemaps = _urls(feeds), _urls(sitemaps)
    spec.urls = _urls(urls)
    if urls_file:
        path = Path(urls_file)
        if not path.is_file():
            raise UserError(f"URL file {urls_file} does not exist", 2)
        read_urls((), str(path))  # validates every line now
        spec.urls_file = str(path.resolve())
    try:
        validate(spec)
    except InvalidSchedule as exc:
        raise UserError(str(exc), 2) from exc
    add_schedule(engine(ctx, writer=True, must_exist=False), spec, utcnow())
    click.echo(f"added schedule {name}; run 'redline scheduler' to start running it")


def _urls(urls: tuple[str, ...]) -> list[str]:
    return read_urls(urls, None) if urls else []


@schedule.command("list")
@json_option
@click.pass_context
@handles_errors
def schedule_list(ctx: click.Context, as_json: bool) -> None:
    """List jobs with their timing, sources, tracked articles, last run and next run.

    \b
    redline schedule list --json
    """
    from archive.clock import utcnow
    from archive.queries import iso, json_shapes, list_schedules
    from jobs.triggers import next_run

    now = utcnow()
    found = [(s, next_run(s, now)) for s in list_schedules(engine(ctx))]
    if as_json:
        emit_json([json_shapes.schedule(s, _when(s.every_seconds, s.cron, s.timezone), at) for s, at in found])
        return
    table(["name", "when", "watches", "tracked", "state", "last run", "next run"],
          [[s.name, _when(s.every_seconds, s.cron, s.timezone), _watches(s), s.tracked,
            ", ".join(["paused" if s.paused else "active", *([f"render {s.render}"] if s.render else []),
                       *(["screenshots"] if s.screenshot else [])]),
            f"{iso(s.last_run.started)} {s.last_run.outcome}" if s.last_run else "-", iso(at) or "-"]
           for s, at in found])


def _when(every_seconds: int | None, cron: str | None, timezone: str) -> str:
    from archive.watch.recheck import format_duration

    if every_seconds:
        return f"every {format_duration(timedelta(seconds=every_seconds))}"
    return f"cron {cron} ({timezone})"


def _watches(s: ScheduleEntry) -> str:
    """What a job watches, counted: ``1 feed, 2 sitemaps, file watch.txt``."""
    parts = [f"{len(found)} {noun if len(found) == 1 else noun + 's'}"
             for found, noun in ((s.feeds, "feed"), (s.sitemaps, "sitemap"), (s.urls, "URL")) if found]
    if s.urls_file:
        parts.append(f"file {s.urls_file}")
    return ", ".join(parts)


@schedule.command("edit")
@click.argument("name")
@click.option("--every", metavar="INTERVAL", help="Run every INTERVAL instead: 45s, 30m, 2h, 1d.")
@click.option("--cron", metavar="EXPR", help='Run on this crontab schedule instead, e.g. "*/15 6-23 * * *".')
@click.option("--tz", "timezone", metavar="ZONE", help="Time zone of the cron schedule (IANA name).")
@click.option("--recheck", metavar="POLICY", help="New re-check intervals by age since last change.")
@click.option("--feed", "feeds", multiple=True, metavar="URL", help="Also watch this feed (repeatable).")
@click.option("--remove-feed", "gone_feeds", multiple=True, metavar="URL", help="Stop watching this feed.")
@click.option("--sitemap", "sitemaps", multiple=True, metavar="URL", help="Also watch this sitemap (repeatable).")
@click.option("--remove-sitemap", "gone_sitemaps", multiple=True, metavar="URL", help="Stop watching this sitemap.")
@click.option("--url", "urls", multiple=True, metavar="URL", help="Also track this URL (repeatable).")
@click.option("--remove-url", "gone_urls", multiple=True, metavar="URL",
              help="Stop listing this URL (what it tracked so far stays tracked).")
@click.option("--urls-file", metavar="FILE", help='Track the URLs in FILE instead ("" drops the file).')
@click.option("-s", "settings", multiple=True, metavar="NAME=VALUE", help="Scrapy setting for this job's runs.")
@click.option("--pause/--resume", "paused", default=None, help="Pause or resume the job.")
@click.option("--screenshot/--no-screenshot", default=None,
              help="Take (or stop taking) a screenshot of every new version its runs record.")
@render_option
@click.pass_context
@handles_errors
def edit(ctx: click.Context, name: str, every: str | None, cron: str | None, timezone: str | None,
         recheck: str | None, feeds: tuple[str, ...], gone_feeds: tuple[str, ...], sitemaps: tuple[str, ...],
         gone_sitemaps: tuple[str, ...], urls: tuple[str, ...], gone_urls: tuple[str, ...], urls_file: str | None,
         settings: tuple[str, ...], paused: bool | None, screenshot: bool | None, render: str | None) -> None:
    """Change job NAME in place: its tracked articles and the alert rules bound to it stay.

    \b
    redline schedule edit world --every 15m
    redline schedule edit world --screenshot
    redline schedule edit world --feed https://example.com/europe/rss.xml --recheck 1d:30m,30d:1d,14d
    """
    from archive.errors import ArchiveError
    from archive.watch.recheck import BadDuration, Policy, parse_duration
    from archive.watch.schedules import Edit, InvalidSchedule, JobSpec
    from archive.watch.schedules import edit as edit_schedule
    from jobs.triggers import build_trigger

    if every and cron:
        raise UserError("give at most one of --every INTERVAL or --cron EXPR", 2)
    change = Edit(timezone=timezone, add_feeds=_urls(feeds), remove_feeds=list(gone_feeds),
                  add_sitemaps=_urls(sitemaps), remove_sitemaps=list(gone_sitemaps), add_urls=_urls(urls),
                  remove_urls=list(gone_urls), settings=parse_settings(settings), paused=paused, cron=cron,
                  screenshot=screenshot, render=render)
    check_render({"REDLINE_RENDER": render} if render else {})
    try:
        if every:
            change.every_seconds = max(1, int(parse_duration(every).total_seconds()))
        if recheck:
            change.recheck = str(Policy.parse(recheck))
    except BadDuration as exc:
        raise UserError(str(exc), 2) from exc
    if urls_file:
        if not Path(urls_file).is_file():
            raise UserError(f"URL file {urls_file} does not exist", 2)
        read_urls((), urls_file)  # validates every line now
        change.urls_file = str(Path(urls_file).resolve())
    elif urls_file == "":
        change.urls_file = ""

    def check(spec: JobSpec) -> None:
        try:
            build_trigger(spec.every_seconds, spec.cron, spec.timezone)  # validates cron and zone
        except ArchiveError as exc:
            raise InvalidSchedule(str(exc)) from exc

    try:
        edit_schedule(engine(ctx, writer=True), name, change, check)
    except InvalidSchedule as exc:
        raise UserError(str(exc), 2) from exc
    click.echo(f"edited schedule {name}; a running 'redline scheduler' picks the change up at its next sync")


@schedule.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
@handles_errors
def remove(ctx: click.Context, name: str, yes: bool) -> None:
    """Delete job NAME, its tracked list and the alert rules bound to it (archived articles and run
    history stay). Asks first on a terminal.

    \b
    redline schedule remove world
    redline schedule remove world --yes
    """
    from archive.watch.schedules import dropped_by_removal
    from archive.watch.schedules import remove as remove_schedule

    db = engine(ctx, writer=True)
    if not yes and sys.stdin.isatty():
        drops = dropped_by_removal(db, name)
        rules = f" and its alert rules {', '.join(drops.alert_rules)}" if drops.alert_rules else ""
        click.confirm(f"remove schedule {name} with its {drops.tracked} tracked URL(s){rules}?", abort=True)
    dropped = remove_schedule(db, name)
    rules = f"; removed alert rules {', '.join(dropped.alert_rules)}" if dropped.alert_rules else ""
    click.echo(f"removed schedule {name} and its {dropped.tracked} tracked URL(s){rules}")


def _set_paused(ctx: click.Context, name: str, paused: bool) -> None:
    from archive.watch.schedules import set_schedule_paused

    set_schedule_paused(engine(ctx, writer=True), name, paused)
    click.echo(f"{'paused' if paused else 'resumed'} schedule {name}")


@schedule.command("pause")
@click.argument("name")
@click.pass_context
@handles_errors
def pause(ctx: click.Context, name: str) -> None:
    """Stop running job NAME until it is resumed.

    \b
    redline schedule pause world
    """
    _set_paused(ctx, name, True)


@schedule.command("resume")
@click.argument("name")
@click.pass_context
@handles_errors
def resume(ctx: click.Context, name: str) -> None:
    """Run job NAME on its schedule again (a run missed while paused happens once, at once).

    \b
    redline schedule resume world
    """
    _set_paused(ctx, name, False)


@schedule.command("run")
@click.argument("name")
@click.option("--queue", is_flag=True, help="Enqueue the due articles for 'redline worker' instead of fetching.")
@click.option("-s", "settings", multiple=True, metavar="NAME=VALUE", help="Scrapy setting, as 'scrapy crawl -s'.")
@render_option
@json_option
@click.pass_context
@handles_errors
def run(ctx: click.Context, name: str, queue: bool, settings: tuple[str, ...], render: str | None,
        as_json: bool) -> None:
    """Run job NAME once, now, in the foreground (--render for this run only: it wins over the job's).

    \b
    redline schedule run world --json
    redline schedule run apps --render js
    """
    from jobs.child import CrawlFailed
    from jobs.schedule_run import run_schedule

    overrides = parse_settings(settings)
    if render:
        if queue:
            raise UserError("--render does not apply with --queue; give it to 'redline worker -s REDLINE_RENDER=…'", 2)
        overrides["REDLINE_RENDER"] = render
        check_render(overrides)
    overrides.setdefault("LOG_LEVEL", "WARNING")
    engine(ctx, writer=True).dispose()  # a clear error for a missing archive before the crawl starts
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop the crawl child cleanly, as Ctrl-C does
    try:
        summary = run_schedule(db_url(ctx), name, None, overrides, queue)
    except CrawlFailed as exc:
        raise UserError(str(exc)) from exc
    if as_json:
        emit_json(summary)
        return
    click.echo("run {run} of {job}: discovered {discovered}  due {due}  fetched {fetched}  new articles "
               "{new_articles} (first captures)  new versions {new_versions}  failures {failures}".format(**summary))
    for problem in summary["problems"]:
        click.echo(f"  problem: {problem}", err=True)
    from redline.render import print_learning

    print_learning(summary["templates_learned"], summary["site_wide"])


@click.command()
@click.option("--run-timeout", default="1h", show_default=True, metavar="DURATION",
              help="Kill a run that takes longer than this.")
@click.option("--parallel", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Different jobs that may run at the same time (one run per job at a time).")
@click.option("--sync-every", default="10s", show_default=True, metavar="DURATION",
              help="How often to re-read the schedules table for changes.")
@click.option("--queue", is_flag=True, help="Enqueue due articles for 'redline worker' (PostgreSQL) "
                                            "instead of fetching them here.")
@click.option("-v", "--verbose", is_flag=True,
              help="Log in detail, apprise's own lines included (alert targets' secrets are always scrubbed).")
@click.pass_context
@handles_errors
def scheduler(ctx: click.Context, run_timeout: str, parallel: int, sync_every: str, queue: bool,
              verbose: bool) -> None:
    """Run scheduled jobs in the foreground until SIGTERM or Ctrl-C.

    Jobs come from 'redline schedule add'; changes are picked up while it runs.
    Runs missed while it was stopped happen once when it starts.

    \b
    redline scheduler
    redline scheduler --run-timeout 30m --parallel 4
    """
    from archive.watch.recheck import BadDuration, parse_duration
    from jobs.log_secrets import install as install_scrubber
    from jobs.scheduler import Options, Scheduler

    try:
        timeout, sync = parse_duration(run_timeout), parse_duration(sync_every)
    except BadDuration as exc:
        raise UserError(str(exc), 2) from exc
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.INFO if verbose else logging.WARNING)
    db = engine(ctx, writer=True, must_exist=False)
    install_scrubber(db, verbose)
    db.dispose()
    Scheduler(Options(db_url(ctx), timeout.total_seconds(), sync.total_seconds(), parallel,
                      queue)).run_forever()


@click.command()
@click.option("--job", metavar="NAME", help="Only runs of this job.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100000))
@json_option
@click.pass_context
@handles_errors
def runs(ctx: click.Context, job: str | None, limit: int, as_json: bool) -> None:
    """Show the run history, newest first.

    \b
    redline runs --job world --limit 5
    """
    from archive.queries import json_shapes, list_schedules
    from archive.queries import runs as run_history
    from redline.render import print_runs

    db = engine(ctx)
    rows = run_history(db, job=job, limit=limit).items
    if job and not rows and job not in {s.name for s in list_schedules(db)}:
        raise UserError(f"no schedule or runs named {job!r}; see 'redline schedule list'")
    if as_json:
        emit_json([json_shapes.run(r) for r in rows])
    else:
        print_runs(rows)


@click.command()
@click.argument("names", nargs=-1)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000_000))
@json_option
@click.pass_context
@handles_errors
def due(ctx: click.Context, names: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Show which tracked articles are due for a re-check next, and why (all jobs, or NAMES).

    \b
    redline due world --limit 10
    """
    from archive.clock import utcnow
    from archive.queries import due as due_list
    from archive.queries import iso, json_shapes

    rows = due_list(engine(ctx), names, now=utcnow(), limit=limit)
    if as_json:
        emit_json([json_shapes.due(d) for d in rows])
        return
    table(["due", "job", "url", "why", "last checked"],
          [["now" if d.due_now else iso(d.due), d.job, d.url, d.reason, iso(d.last_checked) or "-"] for d in rows])


COMMANDS = [schedule, scheduler, runs, due]
