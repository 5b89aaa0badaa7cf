"""``redline alert ...``: rules that tell people when a watched article changes, the outbox log,
and ``alert send`` for cron (registered on the group through ``COMMANDS``)."""
from __future__ import annotations

from typing import Any

import click

from archive.queries import json_shapes
from redline.options import UserError, engine, handles_errors, json_option
from redline.output import clean, emit_json, table

link_options = [
    click.option("--base-url", metavar="URL", help="Link each alert to its diff page under URL [env REDLINE_BASE_URL]."),
    click.option("--diff-path", metavar="TEMPLATE",
                 help="Path of a diff page under --base-url, with {id}, {url}, {host}, {from}, {to} "
                      "[env REDLINE_DIFF_PATH; default /a/{id}/diff/{from}/{to}, redline serve's page]."),
]


def with_link_options(func: Any) -> Any:
    for option in reversed(link_options):
        func = option(func)
    return func


def _options(base_url: str | None, diff_path: str | None, **given: Any) -> Any:
    from jobs.alert_sender import SendOptions

    try:
        return SendOptions.from_env(base_url, diff_path, **given)
    except ValueError as exc:
        raise UserError(str(exc), 2) from exc


@click.group()
def alert() -> None:
    """Alerts: tell people (e-mail, Slack, webhooks, ... through apprise) when articles change.

    \b
    redline alert add desk --to 'json://hooks.example.com/redline' --kinds headline,correction
    redline alert add daily --to 'mailtos://user:pass@mail.example.com?to=desk@example.com' --digest daily
    redline alert list
    redline alert log
    """


@alert.command("add")
@click.argument("name")
@click.option("--to", "targets", multiple=True, metavar="APPRISE_URL", help="Where to send (repeatable).")
@click.option("--site", "sites", multiple=True, metavar="HOST", help="Only this site (and its subdomains); repeatable.")
@click.option("--job", metavar="NAME", help="Only articles this schedule tracks.")
@click.option("--kinds", metavar="KIND,...", help="Only changes of these kinds (headline, correction, ...; gone and restored for takedowns).")
@click.option("--stealth-only", is_flag=True, help="Only edits made without moving the declared update time.")
@click.option("--min-words", default="0", metavar="N", help="Only changes of at least N words added plus removed.")
@click.option("--include-trivial", is_flag=True,
              help="Also punctuation-only and one-letter edits, and declared-update-only changes.")
@click.option("--digest", metavar="PERIOD", help="Collect matches and send one message per period: hourly or daily.")
@click.pass_context
@handles_errors
def add(ctx: click.Context, name: str, targets: tuple[str, ...], sites: tuple[str, ...], job: str | None,
        kinds: str | None, stealth_only: bool, min_words: str, include_trivial: bool, digest: str | None) -> None:
    """Add an alert rule NAME that sends matching changes to apprise URLs.

    \b
    redline alert add desk --to json://127.0.0.1:8080/hook --kinds headline,correction
    redline alert add stealth --to 'slack://T000/B000/XXXX' --stealth-only --min-words 5 --site www.example.com
    redline alert add morning --to 'mailto://user:pass@example.com' --job world --digest daily
    """
    from datetime import UTC, datetime

    from archive.watch.alerts import BadRule, RuleSpec, add_alert_rule, check_site, parse_kinds
    from jobs.alert_sender import BadTarget, check_target

    if not targets:
        raise UserError("give at least one --to APPRISE_URL", 2)
    if digest not in (None, "hourly", "daily"):
        raise UserError(f"bad --digest {digest!r}; use hourly or daily", 2)
    if not min_words.isdigit():
        raise UserError(f"bad --min-words {min_words!r}; give a whole number of words, 0 or more", 2)
    try:
        for target in targets:
            check_target(target)
        spec = RuleSpec(name, list(dict.fromkeys(targets)), [check_site(s) for s in sites], job,
                        parse_kinds(kinds) if kinds is not None else None, stealth_only, int(min_words),
                        include_trivial, digest)
        add_alert_rule(engine(ctx, writer=True, must_exist=False), spec, datetime.now(UTC))
    except (BadTarget, BadRule) as exc:
        raise UserError(str(exc), 2) from exc


@alert.command("list")
@json_option
@click.pass_context
@handles_errors
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    """List alert rules, their filters, and how many of their alerts are pending, sent and failed.

    \b
    redline alert list
    redline alert list --json
    """
    from archive.queries import alert_rules

    rules = alert_rules(engine(ctx))
    if as_json:
        emit_json([json_shapes.alert_rule(r) for r in rules])
        return
    table(["name", "to", "filters", "digest", "paused", "pending", "sent", "failed"],
          [[r.name, "\n".join(_private(u) for u in r.targets), _filters(r), r.digest or "-",
            "yes" if r.paused else "no", r.pending, r.sent, r.failed] for r in rules])


def _private(url: str) -> str:
    from archive.watch.alerts import private_target

    return private_target(url)


def _filters(rule: Any) -> str:
    parts = [f"site {', '.join(rule.sites)}"] if rule.sites else []
    parts += [f"job {rule.job}"] if rule.job else []
    parts += [f"kinds {','.join(rule.kinds)}"] if rule.kinds else []
    parts += ["stealth only"] if rule.stealth_only else []
    parts += [f"min {rule.min_words} words"] if rule.min_words else []
    parts += ["with trivial"] if rule.include_trivial else []
    return "; ".join(parts) or "every change"


@alert.command("remove")
@click.argument("name")
@click.pass_context
@handles_errors
def remove(ctx: click.Context, name: str) -> None:
    """Remove a rule; its pending alerts are cancelled (they stay in 'redline alert log').

    \b
    redline alert remove desk
    """
    from archive.watch.alerts import remove_alert_rule

    cancelled = remove_alert_rule(engine(ctx, writer=True), name)
    click.echo(f"removed alert {name}; cancelled {cancelled} pending alert(s)", err=True)


@alert.command("pause")
@click.argument("name")
@click.pass_context
@handles_errors
def pause(ctx: click.Context, name: str) -> None:
    """Pause a rule: changes recorded meanwhile make no alerts, and pending ones wait.

    \b
    redline alert pause desk
    """
    from archive.watch.alerts import set_alert_paused

    set_alert_paused(engine(ctx, writer=True), name, True)


@alert.command("resume")
@click.argument("name")
@click.pass_context
@handles_errors
def resume(ctx: click.Context, name: str) -> None:
    """Resume a paused rule; its waiting alerts go out at the next send.

    \b
    redline alert resume desk
    """
    from archive.watch.alerts import set_alert_paused

    set_alert_paused(engine(ctx, writer=True), name, False)


@alert.command("test")
@click.argument("name")
@with_link_options
@click.pass_context
@handles_errors
def test(ctx: click.Context, name: str, base_url: str | None, diff_path: str | None) -> None:
    """Send a sample alert, marked as a test, to each of rule NAME's targets now.

    The sample is the archive's latest recorded change, or a built-in example when it has none.

    \b
    redline alert test desk
    redline alert test desk --base-url https://redline.example.org
    """
    from archive.watch.alerts import rule_targets
    from jobs.alert_sample import sample_message
    from jobs.alert_sender import deliver

    db = engine(ctx)
    options = _options(base_url, diff_path)
    failed = 0
    for target in rule_targets(db, name):
        error = deliver(target, sample_message(db, name, options))
        click.echo(f"{_private(target)}: {'sent' if error is None else 'failed: ' + clean(error)}")
        failed += error is not None
    if failed:
        raise UserError(f"{failed} target(s) of alert {name!r} did not accept the sample")


@alert.command("log")
@click.option("--rule", metavar="NAME", help="Only this rule's alerts.")
@click.option("--status", metavar="STATUS", help="Only pending, sent, failed or cancelled alerts.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1), help="At most this many.")
@json_option
@click.pass_context
@handles_errors
def log(ctx: click.Context, rule: str | None, status: str | None, limit: int, as_json: bool) -> None:
    """Show alerts, newest first: status, attempts, last error and idempotency key.

    \b
    redline alert log
    redline alert log --rule desk --status failed --json
    """
    from archive.queries import alert_log, alert_rules, iso
    from archive.watch.alerts import scrub

    if status not in (None, "pending", "sent", "failed", "cancelled"):
        raise UserError(f"bad --status {status!r}; use pending, sent, failed or cancelled", 2)
    db = engine(ctx)
    entries = alert_log(db, rule=rule, status=status, limit=limit).items
    if rule and not entries and rule not in {r.name for r in alert_rules(db)}:
        raise UserError(f"no alert named {rule!r}; see 'redline alert list'")
    if as_json:
        emit_json([json_shapes.alert_entry(e) for e in entries])
        return
    table(["id", "created", "rule", "to", "article", "version", "status", "attempts", "last error", "key"],
          [[e.id, iso(e.created_at), e.rule, _private(e.target), e.url,
            f"{e.version} ({e.event})" if e.event else e.version,
            e.status + (f" (next {iso(e.next_attempt_at)})" if e.next_attempt_at else ""),
            e.attempts, scrub(e.last_error or "", [e.target]), e.key or "(digest open)"] for e in entries])


@alert.command("send")
@with_link_options
@click.option("--max-attempts", default=8, show_default=True, type=click.IntRange(1),
              help="Attempts before an alert is marked failed.")
@click.option("--retry-base", default=30.0, show_default=True, type=click.FloatRange(0), metavar="SECONDS",
              help="Wait before the first retry; doubled after each failed attempt (at most 1 h).")
@click.option("--lease", default=300.0, show_default=True, type=click.FloatRange(1), metavar="SECONDS",
              help="How long a claimed alert is held by this sender; after a crash it is sent again then.")
@json_option
@click.pass_context
@handles_errors
def send(ctx: click.Context, base_url: str | None, diff_path: str | None, max_attempts: int, retry_base: float,
         lease: float, as_json: bool) -> None:
    """Deliver pending alerts once (for cron); exit 1 if any could not be delivered.

    \b
    redline alert send
    redline alert send --base-url https://redline.example.org   # in a crontab: * * * * *
    """
    from jobs.alert_sender import send_pending

    options = _options(base_url, diff_path, max_attempts=max_attempts, retry_base=retry_base, lease=lease)
    report = send_pending(engine(ctx, writer=True), options)
    if as_json:
        emit_json({"sent": report.sent, "retrying": report.retrying, "failed": report.failed})
    else:
        click.echo(f"sent {report.sent}  retrying {report.retrying}  failed {report.failed}")
    for error in report.errors:
        click.echo(clean(error), err=True)
    if report.retrying or report.failed:
        raise UserError(f"{report.retrying + report.failed} alert(s) not delivered; see 'redline alert log'")


COMMANDS = [alert]
