"""The offline end-to-end demo: sample pages and their RSS feed on 127.0.0.1, a scheduled job
that follows the feed, run twice with edits in between."""
from __future__ import annotations

import contextlib
import shlex
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from archive.errors import ArchiveError
from redline.fakesite import FakeSite, Route, load_stories, published_now

FAST = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "CONCURRENT_REQUESTS_PER_DOMAIN": "8"}
JOB = "demo"


def run_demo(db: str, fresh: bool) -> None:
    """Serve, run the job, edit, run it again, then print the history, a diff and the runs."""
    from archive.schema.db import database_url

    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(db + suffix).unlink(missing_ok=True)
    from jobs.schedule_run import run_schedule

    db_url = database_url(db)
    refuse_other_archives(db_url)
    site = FakeSite().start()
    try:
        stories = load_stories()
        published_now(stories)  # fresh news: re-checked every second while young (--recheck 1h:1s,1d)
        urls = [site.add(story) for story in stories]
        site.routes["/rss.xml"] = Route(body=rss(urls), content_type="application/rss+xml")
        say(f"Serving {len(urls)} sample articles and their feed {site.url('rss.xml')}")
        add = ["schedule", "add", JOB, "--every", "15m", "--recheck", "1h:1s,1d", "--feed", site.url("rss.xml")]
        say(f"\n$ {command_name()} --db {shlex.quote(db)} {shlex.join(add)}")
        add_job(db_url, site.url("rss.xml"))
        say(f"added schedule {JOB}; the demo runs it twice now, then pauses it (its sample site goes away)")
        summary(run_schedule(db_url, JOB), "first run")
        edit(site)
        wait_until_due(db_url)
        summary(run_schedule(db_url, JOB), "second run (pages re-rendered: new counters, teasers, timestamps)")
    finally:
        site.stop()
        pause_job(db_url)
    show_views(db, db_url, urls)
    say(f"\nThe archive is in {db}; explore it with\n  {command_name()} --db {shlex.quote(db)} list\n"
        f"or in a browser with\n  {command_name()} --db {shlex.quote(db)} serve")


def command_name() -> str:
    """How to run this same ``redline`` again, as typed in a shell: ``redline`` when that is the one on
    PATH, else the path it was started by (``.venv/bin/redline``), or ``python -m redline``."""
    started = Path(sys.argv[0])
    if started.name == "__main__.py":
        return f"{shlex.quote(sys.executable)} -m redline"
    if started.name != "redline":
        return "redline"  # started from Python (tests, a notebook): the installed name
    found = shutil.which("redline")
    if found and Path(found).resolve() == started.resolve():
        return "redline"
    return shlex.quote(sys.argv[0] if "/" in sys.argv[0] else f"./{sys.argv[0]}")


def add_job(db_url: str, feed: str) -> None:
    """The demo's job; an earlier demo's job in a reused archive points at a site that is gone: replace it."""
    from archive.clock import utcnow
    from archive.schema.db import open_engine
    from archive.watch import schedules

    engine = open_engine(db_url, writer=True)
    try:
        with contextlib.suppress(ArchiveError):
            schedules.remove(engine, JOB)
        schedules.add(engine, schedules.JobSpec(name=JOB, every_seconds=15 * 60, feeds=[feed], recheck="1h:1s,1d",
                                                settings=dict(FAST)), utcnow())
    finally:
        engine.dispose()


def refuse_other_archives(db_url: str) -> None:
    """Refuse an archive that holds anything but an earlier demo's articles and job: the demo would add
    sample articles and a job to someone's real archive."""
    from urllib.parse import urlsplit

    from archive import queries
    from archive.schema.db import open_engine

    engine = open_engine(db_url, writer=True)
    try:
        slugs = {"/" + story.slug for story in load_stories()}
        articles = queries.list_articles(engine, limit=100).items
        others = [a.url for a in articles if (urlsplit(a.url).hostname, urlsplit(a.url).path) not in
                  {("127.0.0.1", slug) for slug in slugs}]
        jobs = [s.name for s in queries.list_schedules(engine) if s.name != JOB]
    finally:
        engine.dispose()
    if others or jobs:
        shown = engine.url.render_as_string(hide_password=True)
        raise ArchiveError(f"{shown} is not a demo archive (it has {'articles' if others else 'schedules'} of its "
                           "own); run 'redline demo' without --db, or give it a new file")


def pause_job(db_url: str) -> None:
    """Pause the demo's job: its feed was on the sample site, which is gone once the demo ends."""
    from archive.schema.db import open_engine
    from archive.watch import schedules

    engine = open_engine(db_url, writer=True)
    try:
        with contextlib.suppress(ArchiveError):  # the demo stopped before adding it
            schedules.set_schedule_paused(engine, JOB, True)
    finally:
        engine.dispose()


def wait_until_due(db_url: str) -> None:
    """Wait until the first run's articles are due again (the job re-checks young ones every second),
    as the archive's own due times say: a run that starts sooner has nothing to fetch."""
    import time

    from archive import queries
    from archive.clock import utcnow
    from archive.schema.db import open_engine

    engine = open_engine(db_url)
    try:
        soonest = queries.due(engine, [JOB], now=utcnow(), limit=1)
    finally:
        engine.dispose()
    if soonest:
        time.sleep(max(0.0, (soonest[0].due - utcnow()).total_seconds()))


def show_views(db: str, db_url: str, urls: list[str]) -> None:
    """What 'redline log', 'diff', 'list' and 'runs' print, from the same query layer and renderers."""
    from archive import queries
    from archive.schema.db import open_engine
    from redline.render import print_articles, print_diff, print_log, print_runs

    engine = open_engine(db_url)
    try:
        for args, show in ((["log", urls[0]], lambda: print_log(*_history(engine, urls[0]))),
                           (["diff", urls[0]], lambda: print_diff(queries.diff(engine, urls[0], -2, -1), "words")),
                           (["log", urls[2]], lambda: print_log(*_history(engine, urls[2]))),
                           (["list"], lambda: print_articles(queries.list_articles(engine).items)),
                           (["runs"], lambda: print_runs(queries.runs(engine).items))):
            say(f"\n$ {command_name()} --db {shlex.quote(db)} {shlex.join(args)}")
            show()
    finally:
        engine.dispose()


def _history(engine: Any, url: str) -> tuple[Any, Any]:
    from archive import queries

    found = queries.log(engine, url)
    return found.versions, found.events


def edit(site: FakeSite) -> None:
    """Make the kinds of edits newsrooms make: a silent fix, a declared update, a removal."""
    moscow = site.story("2024/12/05/russia-north-korea-defense-pact-enters-force-a87233")
    moscow.paragraphs[0] = moscow.paragraphs[0].replace("Wednesday", "Thursday")
    moscow.paragraphs.append("Correction: An earlier version of this article misstated the day the pact "
                             "entered into force. It was Thursday.")
    epoch = site.story("world/russia-north-korea-strategic-partnership-treaty-takes-effect-5771234")
    epoch.title = "Russia–North Korea Defense Treaty Takes Effect, Moscow Says"
    epoch.updated = datetime.now(UTC).isoformat(timespec="seconds")  # a declared update, stated now
    nk = site.story("north-korea/2024/12/05/major-defense-treaty-with-russia-comes-into-full-effect")
    del nk.paragraphs[-2]
    site.set_status("news/2024/12/04/defence-agreement-russia-north-korea-comes-into-force", 404)
    say("Edited 3 articles (a silent word fix plus a correction, a declared headline update, a stealth "
        "paragraph removal) and took one down (404).")


def rss(urls: list[str]) -> str:
    items = "".join(f"<item><link>{url}</link><pubDate>Thu, 05 Dec 2024 09:00:00 GMT</pubDate></item>"
                    for url in urls)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Sample news</title>{items}</channel></rss>'


def summary(result: dict[str, Any], label: str) -> None:
    say(f"{label}: discovered {result['discovered']}, fetched {result['fetched']}, new articles "
        f"{result['new_articles']} (first captures), new versions {result['new_versions']}, "
        f"failures {result['failures']}")


def say(message: str) -> None:
    click.echo(message)
