"""``redline repack`` (registered on the group through ``COMMANDS``)."""
from __future__ import annotations

import click

from redline.options import engine, handles_errors


@click.command()
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 100_000),
              help="Bodies looked at per transaction.")
@click.option("--batches", type=click.IntRange(1), metavar="N",
              help="Stop after N batches (run it again later to go on).")
@click.option("--no-compact", is_flag=True, help="Leave the freed space in the SQLite file (no VACUUM).")
@click.pass_context
@handles_errors
def repack(ctx: click.Context, batch: int, batches: int | None, no_compact: bool) -> None:
    """Re-store raw captures kept whole (archives made before deltas) as deltas against the previous
    capture of the same URL, then give the space back (SQLite VACUUM).

    Every body keeps its sha256 and reads back byte for byte; each batch is one transaction, so an
    interrupted repack loses nothing, and running it again goes on where it stopped. Run 'redline
    verify' before and after if you like: both pass.

    \b
    redline repack
    redline repack --batches 20        # a slice now, the rest later
    """
    from archive.store.repack import compact, stored_size
    from archive.store.repack import repack as run_repack

    eng = engine(ctx, writer=True)
    before = stored_size(eng)
    done = run_repack(eng, batch, batches, lambda r: click.echo(
        f"  {r.batches} batch(es): {r.bodies} bodies re-stored, {r.before:,} -> {r.after:,} bytes", err=True))
    compacted = not no_compact and done.bodies > 0 and compact(eng)
    after = stored_size(eng)
    left = "" if done.done else "; more to do: run it again"
    what = "archive" if eng.dialect.name == "sqlite" else "bodies table"
    where = f"{what} {before:,} -> {after:,} bytes" if compacted else f"{what} {after:,} bytes (not compacted)"
    click.echo(f"re-stored {done.bodies} raw bodies as deltas ({done.before:,} -> {done.after:,} bytes); "
               f"{where}{left}")


COMMANDS = [repack]
