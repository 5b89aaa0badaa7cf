"""``redline ignore ...``: per-site noise rules and the template paragraphs Redline learned
(registered on the group through ``COMMANDS``)."""
from __future__ import annotations

import click

from redline.options import UserError, engine, handles_errors, json_option
from redline.output import clean, emit_json, table


@click.group()
def ignore() -> None:
    """Per-site ignore rules: paragraphs matching a rule never make a new version.

    \b
    redline ignore add www.example.com '^Sponsored: '
    redline ignore list
    """


@ignore.command("add")
@click.argument("host")
@click.argument("pattern")
@click.option("--force", is_flag=True, help="Add a rule even though it matches every paragraph (hides every edit).")
@click.pass_context
@handles_errors
def ignore_add(ctx: click.Context, host: str, pattern: str, force: bool) -> None:
    """Ignore paragraphs on HOST (a host name: no scheme or port) matching the regular expression PATTERN.

    \b
    redline ignore add www.example.com '^Listen to this article'
    """
    from archive.store.rules import add_noise_rule, check_pattern
    from archive.text.normalize import check_host

    check_host(host)  # before the archive is created or opened: a bad rule writes nothing
    check_pattern(pattern, force)
    add_noise_rule(engine(ctx, writer=True, must_exist=False), host, pattern, force)
    click.echo(f"added rule for {clean(host)}: {clean(pattern)} (applies to later fetches and to diffs)")


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
    from archive.store.rules import remove_noise_rule

    remove_noise_rule(engine(ctx, writer=True), host, pattern)
    click.echo(f"removed rule for {clean(host)}: {clean(pattern)}")


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
    from archive.queries import iso, json_shapes, learned_templates, noise_rules

    db = engine(ctx)
    if as_json:
        emit_json([json_shapes.learned_template(lt) for lt in learned_templates(db)] if learned
                  else [json_shapes.noise_rule(r) for r in noise_rules(db)])
        return
    if not learned:
        table(["host", "pattern"], [[r.host, r.pattern] for r in noise_rules(db)])
        click.echo()
    click.echo("learned template paragraphs (forget one with 'redline ignore forget HOST HASH'):")
    table(["host", "hash", "first seen", "articles", "text", "examples"],
          [[lt.host, lt.hash, iso(lt.first_seen), f"{lt.articles} of {lt.of_articles}" if lt.articles
            else "(no evidence kept)", lt.text or "", "\n".join(lt.examples)] for lt in learned_templates(db)])


@ignore.command("forget")
@click.argument("host")
@click.argument("digest", metavar="[HASH]", required=False)
@click.option("--all-learned", is_flag=True, help="Forget every template paragraph learned for HOST.")
@click.pass_context
@handles_errors
def ignore_forget(ctx: click.Context, host: str, digest: str | None, all_learned: bool) -> None:
    """Forget a learned template paragraph, then re-evaluate the site's articles ('redline renoise --site').

    \b
    redline ignore forget www.example.com 3f2a9c0d11e4b5a6
    redline ignore forget www.example.com --all-learned
    """
    from archive.store.rules import forget_templates
    from scraper.renoise import renoise

    if bool(digest) == all_learned:
        raise UserError("give a template HASH or --all-learned (see 'redline ignore list')", exit_code=2)
    gone = forget_templates(engine(ctx, writer=True), host, digest)
    outcome = renoise(engine(ctx, writer=True), (), host)
    click.echo(f"forgot {gone} template paragraph(s) of {host}; re-evaluated {outcome.articles} article(s), "
               f"recovered {len(outcome.recovered)} version(s)")


COMMANDS = [ignore]
