"""``redline screenshot`` (registered on the group through ``COMMANDS``)."""
from __future__ import annotations

from typing import Any

import click

from redline.options import UserError, engine, handles_errors, json_option, parse_settings
from redline.output import clean, emit_json


@click.command()
@click.argument("url", required=False)
@click.option("--version", "number", type=int, help="Screenshot this version of URL (default its latest).")
@click.option("--pending", is_flag=True, help="Take every screenshot still waiting (a crawl stopped or crashed first).")
@click.option("--failed", is_flag=True,
              help="Also take again every screenshot that failed (see 'screenshot-failed' in 'redline log URL --all').")
@click.option("-s", "settings", multiple=True, metavar="NAME=VALUE",
              help="Screenshot setting, e.g. -s REDLINE_SCREENSHOT_BROWSER=/usr/bin/chromium.")
@json_option
@click.pass_context
@handles_errors
def screenshot(ctx: click.Context, url: str | None, number: int | None, pending: bool, failed: bool,
               settings: tuple[str, ...], as_json: bool) -> None:
    """Take the screenshots still waiting, or one of a version (again), by rendering its archived body in Chromium.

    A crawl with --screenshot takes them after its writes; one it could not take is a 'screenshot-failed'
    event saying why (see 'redline log URL --all'), and this command takes it again. Exits 1 when a
    screenshot failed.

    \b
    redline screenshot --pending
    redline screenshot --pending --failed   # e.g. once the browser is installed
    redline screenshot https://example.com/news/story --version 2
    """
    from archive import queries
    from archive.store.facade import Archive
    from scraper.run import crawl_settings
    from scraper.screenshots import ShotSettings, take_pending

    if bool(url) == pending or (failed and not pending):
        raise UserError("give a URL (and --version N), or --pending (and --failed)", 2)
    overrides = parse_settings(settings)
    eng = engine(ctx, writer=True)
    archive = Archive(eng)
    if url:
        ref = queries.article(eng, url)
        wanted = number if number is not None else ref.latest
        if wanted is None:
            raise UserError(f"{clean(ref.url)} has no version yet; see 'redline log {clean(ref.url)}'", 1)
        archive.want_screenshot(ref.id, wanted)
    if failed:
        archive.want_failed_screenshots()
    done = take_pending(archive, ShotSettings.from_settings(crawl_settings("", overrides)))
    _report(done, as_json)
    if done["failed"]:
        raise UserError(f"{done['failed']} screenshot(s) failed; 'redline log URL --all' says why", 1)


def _report(done: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(done)
    else:
        click.echo(f"screenshots taken {done['taken']}  failed {done['failed']}")


COMMANDS = [screenshot]
