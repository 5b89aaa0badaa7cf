"""Deliver the alert outbox through apprise: claim a message, send it, mark it sent.

A message is marked sent only after apprise reports that the target accepted it; a failure
(an error status, a refused connection, a timeout: apprise's ``cto``/``rto`` URL options,
4 s by default) is recorded with apprise's own words and retried later with exponential
backoff, until ``max_attempts``. A sender killed between sending and marking leaves the
message leased; once the lease ends the next sender sends it again, with the same
idempotency key (the ``Idempotency-Key`` header and ``redline.idempotency_key`` of JSON
webhooks), so a receiver can drop that one duplicate.
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from archive import queries
from archive.watch import alerts
from archive.watch.alerts import private_target, scrub
from jobs.alert_messages import DEFAULT_DIFF_PATH, Message, build, check_base_url, check_diff_path
from jobs.log_secrets import remember

log = logging.getLogger("redline.alerts")
JSON_SCHEMAS = ("json", "jsons")
SENDING = threading.Lock()  # one send at a time per process: apprise's log capture is process-wide


class BadTarget(ValueError):
    """Not an apprise URL apprise can send to; the message says why."""


@dataclass
class SendOptions:
    """How to send: the diff link, and the retry policy."""

    base_url: str | None = None
    diff_path: str = DEFAULT_DIFF_PATH
    max_attempts: int = alerts.MAX_ATTEMPTS
    retry_base: float = alerts.RETRY_BASE
    lease: float = alerts.LEASE

    @classmethod
    def from_env(cls, base_url: str | None = None, diff_path: str | None = None, **given: Any) -> SendOptions:
        """Options, with the link from REDLINE_BASE_URL and REDLINE_DIFF_PATH when not given."""
        path = diff_path or os.environ.get("REDLINE_DIFF_PATH") or DEFAULT_DIFF_PATH
        base = base_url or os.environ.get("REDLINE_BASE_URL") or None
        return cls(base and check_base_url(base), check_diff_path(path), **given)


@dataclass
class SendReport:
    """What one pass did: messages sent, to be retried, and given up (``failed``)."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def check_target(url: str) -> None:
    """Raise BadTarget, with apprise's reason, if apprise cannot load ``url``."""
    _instance(url, {}, None)


def send_pending(engine: Engine, options: SendOptions) -> SendReport:
    """Deliver every due message once (closing digests whose period has ended)."""
    report = SendReport()
    alerts.close_digests(engine, _now())
    for key in alerts.due_keys(engine, _now()):
        claimed = alerts.claim(engine, key, _now(), options.lease)
        if claimed is None:
            continue  # another sender has it
        try:
            changes = [queries.event_change(engine, article, number, event) if event is not None
                       else queries.version_change(engine, article, number) for article, number, event in claimed.items]
            message = build(claimed.key, claimed.rule, claimed.digest, changes, options.base_url, options.diff_path)
            error = deliver(claimed.target, message)
        except Exception as exc:  # noqa: BLE001  (recorded on the row, never lost)
            error = scrub(f"{type(exc).__name__}: {exc}", [claimed.target])
        if error is None:
            alerts.mark_sent(engine, claimed, _now())
            report.sent += 1
            continue
        gave_up = alerts.mark_failed(engine, claimed, _now(), error, max_attempts=options.max_attempts,
                                     retry_base=options.retry_base)
        report.failed += gave_up
        report.retrying += not gave_up
        report.errors.append(f"{claimed.rule} -> {private_target(claimed.target)}: {error}")
        log.warning("alert %s to %s failed (%s): %s", claimed.key, private_target(claimed.target),
                    "gave up" if gave_up else "will retry", error)
    return report


def send_logged(engine: Engine) -> None:
    """``send_pending`` for the scheduler and workers (options from the environment): problems are
    logged, never raised."""
    try:
        report = send_pending(engine, SendOptions.from_env())
    except Exception:  # noqa: BLE001  (the next pass tries again; nothing is lost)
        log.exception("alert sending failed; will try again")
        return
    if report.sent or report.retrying or report.failed:
        log.info("alerts: sent %d, retrying %d, failed %d", report.sent, report.retrying, report.failed)


def deliver(target: str, message: Message) -> str | None:
    """Send ``message`` to one apprise URL; None when accepted, else apprise's reason (without the
    target's secrets: errors are stored and shown)."""
    import apprise

    remember([target])
    key = message.payload["idempotency_key"]
    with SENDING, apprise.LogCapture(level=logging.DEBUG) as captured:
        try:
            instance = _instance(target, {"Idempotency-Key": key}, {"redline": message.payload})
        except BadTarget as exc:
            return str(exc)
        as_text = instance.resolve_format(apprise.NotifyFormat.MARKDOWN) == apprise.NotifyFormat.TEXT
        if _is_json(target) or as_text:
            ok = instance.notify(body=message.text, title=message.title, body_format=apprise.NotifyFormat.TEXT)
        else:  # Markdown; apprise converts it for HTML targets (e-mail)
            title = message.markdown_title if instance.title_maxlen <= 0 else message.title
            ok = instance.notify(body=message.markdown, title=title, body_format=apprise.NotifyFormat.MARKDOWN)
    return None if ok else scrub(_reason(captured.getvalue()) or "the target did not accept the message", [target])


def _instance(target: str, headers: dict[str, str], payload: dict[str, Any] | None) -> Any:
    """An apprise plugin for ``target``; a JSON webhook also gets the key header and Redline's payload.

    The URL is loaded as a string first: apprise then masks its secrets in what it logs.
    """
    import apprise
    from apprise.plugins import url_to_dict

    with apprise.LogCapture(level=logging.WARNING) as captured:
        instance = apprise.Apprise.instantiate(target)
    if instance is None:
        reason = _reason(captured.getvalue(), first=True)
        raise BadTarget(f"malformed or unsupported apprise URL {private_target(target)!r}"
                        + (f": {scrub(reason, [target])}" if reason else ""))
    if not _is_json(target):
        return instance
    parsed = url_to_dict(target)
    parsed["headers"] = {**parsed.get("headers", {}), **headers}
    parsed["payload"] = {**parsed.get("payload", {}), **(payload or {})}
    return apprise.Apprise.instantiate(parsed)


def _is_json(target: str) -> bool:
    return target.split("://", 1)[0].lower() in JSON_SCHEMAS


def _now() -> datetime:
    """Now, in UTC (read afresh for each step: sends can take seconds)."""
    return datetime.now(UTC)


def _reason(log_text: str, first: bool = False) -> str:
    """Apprise's last (or first: the cause) warning or error, with the exception it logged after it.

    >>> _reason("t - WARNING - A Connection error occurred.\\nt - DEBUG - Socket Exception: Read timed out.")
    'A Connection error occurred. (Socket Exception: Read timed out.)'
    """
    warning, detail = "", ""
    for line in log_text.splitlines():
        parts = line.split(" - ", 2)
        if len(parts) < 3:
            continue
        if parts[1] in ("WARNING", "ERROR") and not (first and warning):
            warning, detail = parts[2].strip(), ""
        elif "Exception:" in parts[2]:
            detail = parts[2].strip()
    return f"{warning} ({detail})" if warning and detail else warning
