"""``redline serve``: the read-only web view, on 127.0.0.1 unless told otherwise."""
from __future__ import annotations

import ipaddress
import socket

import click

from redline.options import UserError, engine, handles_errors, parse_since


def is_loopback(host: str) -> bool:
    """Whether only this machine can connect to ``host``.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def listen(host: str, port: int) -> socket.socket:
    """A listening socket, or a one-line error naming the address."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)  # proto=IPPROTO_TCP, or asyncio leaves Nagle on (40 ms stalls)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback lets other machines read the archive.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="0 picks a free port.")
@click.option("--base-url", metavar="URL",
              help="Public address for links in feeds and permalinks (default: feeds as requested, "
                   "permalinks relative).")
@click.option("--tz", "tz", metavar="ZONE", default="",
              help="Also show every time in this IANA zone (Europe/Paris); pages take ?tz=ZONE too. "
                   "UTC is always shown.")
@click.option("--now", "now", metavar="TIME", default="",
              help="Count relative ages (\"2 h ago\") to this fixed UTC time, not the clock: for reproducible pages.")
@click.option("--db", metavar="URL", help="The archive, as 'redline --db URL serve' takes it.")
@click.pass_context
@handles_errors
def serve(ctx: click.Context, host: str, port: int, base_url: str | None, tz: str, now: str, db: str | None) -> None:
    """Serve a read-only web view of the archive: changes, articles, timelines, diffs, Atom feeds
    and the JSON API. Safe beside a running scheduler or workers; nothing here writes or fetches.

    \b
    redline serve                         # http://127.0.0.1:8080/
    redline serve --db redline-demo.db --port 8000
    redline serve --tz Europe/Paris --base-url https://redline.example.org
    """
    import uvicorn

    from archive.schema.db import read_only
    from redline.web.app import create_app
    from redline.web.times import zone

    if db:
        ctx.find_root().obj["db"] = db
    if "/" in host or (":" in host and not _is_ip(host)):
        raise UserError(f"bad --host {host!r}; give a host name or IP address (no scheme; --port sets the port)", 2)
    if base_url and not base_url.startswith(("http://", "https://")):
        raise UserError(f"bad --base-url {base_url!r}; give an http(s) URL", 2)
    try:
        shown_zone = zone(tz.strip())
    except ValueError as exc:
        raise UserError(f"bad --tz: {exc}", 2) from exc
    fixed = parse_since(now) if now else None
    app = create_app(read_only(engine(ctx)), base_url, shown_zone, fixed)
    sock = listen(host, port)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Serving the archive read-only at http://{shown}:{bound}/ (Ctrl-C to stop)")
    if is_loopback(host):
        click.echo("Listening on loopback only: this machine can connect, others cannot.", err=True)
    else:
        click.echo(f"warning: listening on {host}, not loopback: anyone who can reach this machine can read the "
                   "whole archive (there is no login). Use --host 127.0.0.1 to keep it private.", err=True)
    config = uvicorn.Config(app, log_level="warning", server_header=False, date_header=True, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


COMMANDS = [serve]
