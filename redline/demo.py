"""The offline end-to-end demo: sample pages on 127.0.0.1, two crawls, an edit between them."""
from __future__ import annotations

from pathlib import Path

import click

from jobs.runner import run_crawl
from redline.fakesite import FakeSite, load_stories

FAST = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "CONCURRENT_REQUESTS_PER_DOMAIN": "8"}


def run_demo(db: str, fresh: bool) -> None:
    """Serve, crawl, edit, crawl again, then print the log and the diff."""
    from archive.db import database_url

    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(db + suffix).unlink(missing_ok=True)
    db_url = database_url(db)
    site = FakeSite().start()
    try:
        urls = [site.add(story) for story in load_stories()]
        say(f"Serving {len(urls)} sample articles on {site.url('')}")
        summary(run_crawl(urls, db_url, FAST), "first crawl")
        edit(site)
        summary(run_crawl(urls, db_url, FAST), "second crawl (pages re-rendered: new counters, teasers, timestamps)")
    finally:
        site.stop()
    from redline.cli import cli

    for args in (["log", urls[0]], ["diff", urls[0]], ["log", urls[2]], ["list"]):
        say(f"\n$ redline --db {db} {' '.join(args)}")
        cli.main(["--db", db, *args], prog_name="redline", standalone_mode=False)
    say(f"\nThe archive is in {db}; explore it with 'redline --db {db} list'.")


def edit(site: FakeSite) -> None:
    """Make the kinds of edits newsrooms make: a silent fix, a declared update, a removal."""
    moscow = site.story("2024/12/05/russia-north-korea-defense-pact-enters-force-a87233")
    moscow.paragraphs[0] = moscow.paragraphs[0].replace("Wednesday", "Thursday")
    moscow.paragraphs.append("Correction: An earlier version of this article misstated the day the pact "
                             "entered into force. It was Thursday.")
    epoch = site.story("world/russia-north-korea-strategic-partnership-treaty-takes-effect-5771234")
    epoch.title = "Russia–North Korea Defense Treaty Takes Effect, Moscow Says"
    epoch.updated = "2024-12-05T18:30:00Z"
    nk = site.story("north-korea/2024/12/05/major-defense-treaty-with-russia-comes-into-full-effect")
    del nk.paragraphs[-2]
    site.set_status("news/2024/12/04/defence-agreement-russia-north-korea-comes-into-force", 404)
    say("Edited 3 articles (a silent word fix plus a correction, a declared headline update, a stealth "
        "paragraph removal) and took one down (404).")


def summary(result: dict[str, int], label: str) -> None:
    say(f"{label}: fetched {result['fetched']}, new articles {result['new_articles']}, "
        f"new versions {result['new_versions']}, unchanged {result['unchanged']}, failed {result['failed']}")


def say(message: str) -> None:
    click.echo(message)
