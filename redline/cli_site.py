"""``redline site ...``: per-site crawl defaults (registered on the group through ``COMMANDS``)."""
from __future__ import annotations

import click

from redline.options import RENDER_MODES, UserError, engine, handles_errors, json_option
from redline.output import clean, emit_json, table


@click.group()
def site() -> None:
    """Per-site defaults: how a site's pages are fetched, and whether each new version is screenshotted.

    A crawl's --render wins over its schedule's, which wins over the site's; unset, a page is fetched
    with --render auto.

    \b
    redline site set www.example.com --render js --screenshot
    redline site list
    """


@site.command("set")
@click.argument("host")
@click.option("--render", type=click.Choice(RENDER_MODES), default=None,
              help="Fetch the site's pages through a browser: auto, js (always) or never.")
@click.option("--screenshot/--no-screenshot", default=None, help="Screenshot each new version of the site's pages.")
@click.pass_context
@handles_errors
def site_set(ctx: click.Context, host: str, render: str | None, screenshot: bool | None) -> None:
    """Set defaults for HOST (a host name: no scheme or port); what is not given is kept.

    \b
    redline site set www.example.com --render js
    redline site set www.example.com --screenshot
    """
    from archive.store.sites import set_site
    from archive.text.normalize import check_host
    from archive.vocab import RenderMode

    check_host(host)  # before the archive is created or opened: a bad host writes nothing
    if render is None and screenshot is None:
        raise UserError("give --render MODE and/or --screenshot/--no-screenshot", 2)
    name = set_site(engine(ctx, writer=True, must_exist=False), host, RenderMode(render) if render else None,
                    screenshot)
    click.echo(f"set defaults for {clean(name)} (later crawls use them)")


@site.command("unset")
@click.argument("host")
@click.pass_context
@handles_errors
def site_unset(ctx: click.Context, host: str) -> None:
    """Drop every default of HOST: its pages are fetched with --render auto again.

    \b
    redline site unset www.example.com
    """
    from archive.store.sites import unset_site

    name = unset_site(engine(ctx, writer=True), host)
    click.echo(f"dropped the defaults of {clean(name)}")


@site.command("list")
@json_option
@click.pass_context
@handles_errors
def site_list(ctx: click.Context, as_json: bool) -> None:
    """List every site with defaults (- where one is not set).

    \b
    redline site list
    redline site list --json
    """
    from archive.queries import iso, json_shapes, site_defaults

    found = site_defaults(engine(ctx))
    if as_json:
        emit_json([json_shapes.site(s) for s in found])
        return
    table(["host", "render", "screenshot", "set at"],
          [[s.host, s.render or "-", "-" if s.screenshot is None else ("yes" if s.screenshot else "no"),
            iso(s.updated_at)] for s in found])


COMMANDS = [site]
