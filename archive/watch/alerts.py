"""Alert rules and the alert outbox.

A rule says which changes to tell whom about. When the store records a version it calls
``queue_alerts`` in the same transaction, which writes one outbox row per matching rule and
target: the version and the alert commit together or not at all. A sender then claims rows
(a lease, so two senders never send one row at once), delivers them and marks them sent, or
records the failed attempt and backs off. Rows sharing a ``key`` are one message: a digest's
rows get their key when its period closes. The key is the idempotency key receivers see.

Which versions alert (see README, "Alerts"): never version 1, never extractor drift; a
version ``renoise`` recovered alerts like any other (its message says it was recovered).
A takedown or restoration (a ``gone`` or ``restored`` event of an article that has a version)
alerts too, queued by ``queue_event_alerts`` in the event's transaction: its row names the event
and the article's latest version then.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote

from sqlalchemy import Connection, Engine, and_, delete, exists, func, insert, or_, select, update

from archive.errors import ArchiveError
from archive.schema import tables as t
from archive.vocab import LISTED_KINDS, ChangeKind, EventKind

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from archive.text.classify import Change

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
HOST_RE = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")
DIGESTS = ("hourly", "daily")
SECRET = "[secret]"   # what a target's secrets are replaced by in errors and logs
MIN_SECRET = 4        # shorter parts of a target are not scrubbed as words (passwords are, by USERINFO)
USERINFO = re.compile(r"(?<=://)[^/@\s]+@")  # any URL's user:password@
MAX_ATTEMPTS = 8      # then the row is 'failed'
RETRY_BASE = 30.0     # seconds before the first retry; doubled after each failed attempt
RETRY_CAP = 3600.0    # longest wait between attempts
LEASE = 300.0         # seconds a sender holds claimed rows (longer than any one send)
R, O = t.alert_rules, t.alert_outbox


class BadRule(ArchiveError):
    """A rule that cannot be stored as given (bad name, kind, site, digest or job)."""


@dataclass
class RuleSpec:
    """What ``redline alert add`` was given; ``validate`` checks it before it is stored."""

    name: str
    targets: list[str]
    sites: list[str] = field(default_factory=list)
    job: str | None = None
    kinds: list[str] | None = None
    stealth_only: bool = False
    min_words: int = 0
    include_trivial: bool = False
    digest: str | None = None


def parse_kinds(text: str) -> list[str]:
    """A comma-separated list of change kinds (``gone`` and ``restored`` among them), checked.

    >>> parse_kinds("headline, correction,gone")
    ['headline', 'correction', 'gone']
    >>> parse_kinds("headline,typo")
    Traceback (most recent call last):
    ...
    archive.watch.alerts.BadRule: unknown change kind 'typo'; choose from headline, byline, body-edit, paragraph-added, paragraph-removed, correction, declared-update-only, site-wide, gone, restored
    """
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    for kind in kinds:
        if kind not in LISTED_KINDS:
            raise BadRule(f"unknown change kind {kind!r}; choose from {', '.join(LISTED_KINDS)}")
    if not kinds:
        raise BadRule("--kinds is empty; give kinds such as headline,correction")
    return list(dict.fromkeys(kinds))


def check_site(site: str) -> str:
    """A host name as rules store it (lower case), or a one-line error.

    >>> check_site("WWW.Example.com")
    'www.example.com'
    >>> check_site("https://example.com/news")
    Traceback (most recent call last):
    ...
    archive.watch.alerts.BadRule: bad --site 'https://example.com/news'; give a host name such as www.example.com, not a URL
    """
    host = site.strip().lower()
    if not HOST_RE.fullmatch(host):
        raise BadRule(f"bad --site {site!r}; give a host name such as www.example.com, not a URL")
    return host


def add_alert_rule(engine: Engine, spec: RuleSpec, now: datetime) -> None:
    """Store a new rule; its name must be new and its job must exist."""
    if not NAME_RE.fullmatch(spec.name):
        raise BadRule(f"bad alert name {spec.name!r}; use letters, digits, '.', '_' or '-'")
    if spec.digest not in (None, *DIGESTS):
        raise BadRule(f"bad --digest {spec.digest!r}; use hourly or daily")
    with engine.begin() as conn:
        if conn.scalar(select(R.c.id).where(R.c.name == spec.name)) is not None:
            raise ArchiveError(f"alert {spec.name!r} already exists; remove it first")
        if spec.job and conn.scalar(select(t.schedules.c.id).where(t.schedules.c.name == spec.job)) is None:
            raise BadRule(f"unknown job {spec.job!r}; see 'redline schedule list'")
        conn.execute(insert(R).values(
            name=spec.name, targets=spec.targets, sites=[check_site(s) for s in spec.sites], job=spec.job,
            kinds=spec.kinds, stealth_only=spec.stealth_only, min_words=spec.min_words,
            include_trivial=spec.include_trivial, digest=spec.digest, paused=False, created_at=now))


def rule_targets(engine: Engine, name: str) -> list[str]:
    """The apprise URLs of rule ``name``."""
    with engine.connect() as conn:
        return _rule(conn, name).targets


def _rule(conn: Any, name: str) -> Any:
    row = conn.execute(select(R).where(R.c.name == name)).first()
    if row is None:
        raise ArchiveError(f"no alert named {name!r}; see 'redline alert list'")
    return row


def remove_alert_rule(engine: Engine, name: str) -> int:
    """Delete a rule; its pending alerts are cancelled (kept in the log). Returns how many."""
    with engine.begin() as conn:
        return _remove(conn, _rule(conn, name).id)


def remove_job_rules(conn: Connection, job: str) -> list[str]:
    """Delete the rules bound to schedule ``job`` (in the caller's transaction), as ``remove_alert_rule``
    does; returns their names."""
    rules = conn.execute(select(R.c.id, R.c.name).where(R.c.job == job).order_by(R.c.name)).all()
    for rule in rules:
        _remove(conn, rule.id)
    return [rule.name for rule in rules]


def _remove(conn: Connection, rule_id: int) -> int:
    cancelled = conn.execute(update(O).where(O.c.rule_id == rule_id, O.c.status == "pending")
                             .values(status="cancelled", lease_until=None)).rowcount
    conn.execute(delete(R).where(R.c.id == rule_id))
    return cancelled


def set_alert_paused(engine: Engine, name: str, paused: bool) -> None:
    """Pause (no new alerts; pending ones wait) or resume a rule."""
    with engine.begin() as conn:
        conn.execute(update(R).where(R.c.id == _rule(conn, name).id).values(paused=paused))


def private_target(target: str) -> str:
    """A target for logs: its scheme and host only (URLs often carry tokens and passwords).

    >>> private_target("slack://T1/B2/secret"), private_target("mailto://user:pw@mail.example.com?to=a@b.c")
    ('slack://…', 'mailto://mail.example.com/…')
    """
    scheme, _, rest = target.partition("://")
    host = rest.split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]
    return f"{scheme}://{host}/…" if "." in host or host.startswith("[") else f"{scheme}://…"


def target_secrets(target: str) -> list[str]:
    """Everything in an apprise URL but its scheme and a real host name, longest first, as written,
    percent-decoded and percent-encoded: user, password, a host that is a token (``slack://T1/...``),
    path segments and query values (and each word of a value, as in ``Bearer TOKEN``). Parts shorter
    than ``MIN_SECRET`` are left to ``USERINFO``, or they would scrub ordinary words from logs.

    >>> target_secrets("slack://T0SECRET1/B0SECRET2/XXSECRETTOKEN")
    ['XXSECRETTOKEN', 'B0SECRET2', 'T0SECRET1']
    >>> target_secrets("mailtos://alerts:pass%2Fword@mail.example.com")
    ['pass%2Fword', 'pass/word', 'alerts']
    """
    rest = target.partition("://")[2].split("#", 1)[0]
    where, _, query = rest.partition("?")
    netloc, _, path = where.partition("/")
    userinfo, at, host = netloc.rpartition("@")
    parts = [*userinfo.split(":", 1)] if at else []
    parts += [] if "." in host or host.startswith("[") else [host.rsplit(":", 1)[0]]
    parts += path.split("/")
    for _key, value in parse_qsl(query, keep_blank_values=True):
        parts += [value, *value.split()]
    forms = {form for part in parts for form in (part, unquote(part), quote(unquote(part), safe=""))}
    return sorted((f for f in forms if len(f) >= MIN_SECRET), key=lambda f: (-len(f), f))


def scrub(text: str, targets: Iterable[str]) -> str:
    """``text`` (an error, a log line) without the secrets of ``targets``, nor any URL's user and password.

    >>> scrub("POST https://hooks.slack.com/services/T0SECRET1/B0SECRET2/XXSECRETTOKEN failed",
    ...       ["slack://T0SECRET1/B0SECRET2/XXSECRETTOKEN"])
    'POST https://hooks.slack.com/services/[secret]/[secret]/[secret] failed'
    >>> scrub("smtp://me:pw@mail.example.com refused", [])
    'smtp://[secret]@mail.example.com refused'
    """
    for secret in sorted({s for target in targets for s in target_secrets(target)}, key=lambda s: (-len(s), s)):
        text = text.replace(secret, SECRET)
    return USERINFO.sub(SECRET + "@", text)


# -- written by the store, in the version's transaction ------------------------------------------

def queue_alerts(session: Session, article_id: int, host: str, number: int, change: Change | None,
                 drift: bool) -> None:
    """Write an outbox row per target of every active rule that version ``number`` matches."""
    if change is None or drift or number == 1:
        return
    _queue(session, article_id, number, lambda rule: _matches(session, rule, article_id, host, change))


def queue_site_wide_alerts(session: Session, article_id: int, host: str, number: int, change: Change) -> None:
    """Version ``number`` was just grouped as one of a site-wide edit: alert the rules that match it only
    now that it has the kind ``site-wide`` (the others were alerted when it was recorded)."""
    if number == 1:
        return
    grouped = replace(change, kinds=[*change.kinds, ChangeKind.SITE_WIDE])
    _queue(session, article_id, number, lambda rule: _matches(session, rule, article_id, host, grouped)
           and not _matches(session, rule, article_id, host, change))


def queue_event_alerts(session: Session, article_id: int, host: str, latest: int, event_id: int,
                       kind: EventKind) -> None:
    """Write an outbox row per target of every active rule a takedown or restoration matches: a rule
    without ``--kinds`` or one asking for ``kind``, on its sites and job; never a ``--stealth-only`` rule
    (a takedown is no silent edit). ``--min-words`` and ``--include-trivial`` do not apply: nothing here
    is trivial."""
    def wanted(rule: Any) -> bool:
        asked = (rule.kinds is None or kind in rule.kinds) and not rule.stealth_only
        return asked and _in_scope(session, rule, article_id, host)

    _queue(session, article_id, latest, wanted, event_id)


def _queue(session: Session, article_id: int, number: int, wanted: Callable[[Any], bool],
           event_id: int | None = None) -> None:
    now = datetime.now(UTC)
    rows = []
    for rule in session.execute(select(R).where(~R.c.paused).order_by(R.c.id)):
        if not wanted(rule):
            continue
        due = _period_end(rule.digest, now) if rule.digest else now
        for target in rule.targets:
            rows.append({"key": None if rule.digest else uuid.uuid4().hex, "rule_id": rule.id, "rule": rule.name,
                         "target": target, "article_id": article_id, "version": number, "event_id": event_id,
                         "created_at": now, "due_at": due, "status": "pending", "attempts": 0,
                         "next_attempt_at": due})
    if rows:
        session.execute(insert(O), rows)


def _matches(session: Session, rule: Any, article_id: int, host: str, change: Change) -> bool:
    kinds = set(change.kinds)
    stealth = change.stealth
    asked = set(rule.kinds or ())
    if (rule.kinds is not None and not kinds & asked) or (rule.stealth_only and not stealth):
        return False
    if (change.added_words + change.removed_words) < rule.min_words:
        return False
    if not rule.include_trivial:
        if kinds == {ChangeKind.DECLARED_UPDATE_ONLY} and ChangeKind.DECLARED_UPDATE_ONLY not in asked:
            return False
        if change.trivial:
            return False
    return _in_scope(session, rule, article_id, host)


def _in_scope(session: Session, rule: Any, article_id: int, host: str) -> bool:
    """The rule's sites and job cover the article."""
    if rule.sites and not any(host == s or host.endswith("." + s) for s in rule.sites):
        return False
    if rule.job:
        tracked = (select(t.tracked.c.id).join(t.schedules, t.schedules.c.id == t.tracked.c.schedule_id)
                   .join(t.article_urls, t.article_urls.c.url == t.tracked.c.url)
                   .where(t.schedules.c.name == rule.job, t.article_urls.c.article_id == article_id))
        return bool(session.scalar(select(exists(tracked))))
    return True


def _period_end(digest: str, now: datetime) -> datetime:
    """When the digest period holding ``now`` ends (UTC hours and days).

    >>> _period_end("hourly", datetime(2024, 12, 5, 9, 30, tzinfo=UTC)).isoformat()
    '2024-12-05T10:00:00+00:00'
    >>> _period_end("daily", datetime(2024, 12, 5, 9, 30, tzinfo=UTC)).isoformat()
    '2024-12-06T00:00:00+00:00'
    """
    if digest == "hourly":
        return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


# -- used by senders ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Claimed:
    """One message to send: its idempotency key, target, rule and the versions it is about."""

    key: str
    token: str
    target: str
    rule: str
    digest: str | None
    attempts: int
    items: list[tuple[int, int, int | None]]   # (article id, version number, event id or None), oldest row first


def close_digests(engine: Engine, now: datetime) -> int:
    """Give each digest whose period has ended its key, so its rows are sent as one message."""
    groups: dict[tuple[str, str, datetime], list[int]] = {}
    with engine.begin() as conn:
        for row in conn.execute(select(O.c.id, O.c.rule, O.c.target, O.c.due_at).where(
                O.c.key.is_(None), O.c.status == "pending", O.c.due_at <= now).order_by(O.c.id)):
            groups.setdefault((row.rule, row.target, row.due_at), []).append(row.id)
        for ids in groups.values():
            conn.execute(update(O).where(O.c.id.in_(ids), O.c.key.is_(None)).values(key=uuid.uuid4().hex))
    return len(groups)


def due_keys(engine: Engine, now: datetime) -> list[str]:
    """Keys of messages that may be sent now (not leased, not held by a paused rule), oldest first."""
    active = select(R.c.id).where(~R.c.paused)
    query = (select(O.c.key).where(O.c.key.is_not(None), O.c.status == "pending", O.c.next_attempt_at <= now,
                                   or_(O.c.lease_until.is_(None), O.c.lease_until < now), O.c.rule_id.in_(active))
             .group_by(O.c.key).order_by(func.min(O.c.id)))
    with engine.connect() as conn:
        return list(conn.scalars(query))


def claim(engine: Engine, key: str, now: datetime, lease: float = LEASE) -> Claimed | None:
    """Lease the rows of message ``key``; None when another sender holds them or they are done."""
    token = uuid.uuid4().hex
    with engine.begin() as conn:
        taken = conn.execute(update(O).where(O.c.key == key, O.c.status == "pending",
                                             or_(O.c.lease_until.is_(None), O.c.lease_until < now))
                             .values(lease_until=now + timedelta(seconds=lease), lease_token=token)).rowcount
        if not taken:
            return None
        rows = conn.execute(select(O.c.target, O.c.rule, O.c.attempts, O.c.article_id, O.c.version, O.c.event_id,
                                   R.c.digest)
                            .outerjoin(R, R.c.id == O.c.rule_id)
                            .where(O.c.key == key, O.c.lease_token == token).order_by(O.c.id)).all()
    first = rows[0]
    return Claimed(key, token, first.target, first.rule, first.digest, first.attempts,
                   [(r.article_id, r.version, r.event_id) for r in rows])


def mark_sent(engine: Engine, claimed: Claimed, now: datetime) -> None:
    """The target accepted the message: its rows are sent."""
    with engine.begin() as conn:
        _attempt(conn, claimed, now, None, status="sent", sent_at=now)


def mark_failed(engine: Engine, claimed: Claimed, now: datetime, error: str, *, max_attempts: int = MAX_ATTEMPTS,
                retry_base: float = RETRY_BASE) -> bool:
    """Record a failed attempt; back off, or give up after ``max_attempts``. True when given up."""
    attempts = claimed.attempts + 1
    wait = min(RETRY_CAP, retry_base * 2 ** (attempts - 1))
    gave_up = attempts >= max_attempts
    with engine.begin() as conn:
        _attempt(conn, claimed, now, error, status="failed" if gave_up else "pending",
                 next_attempt_at=now + timedelta(seconds=wait))
    return gave_up


def _attempt(conn: Any, claimed: Claimed, now: datetime, error: str | None, **values: Any) -> None:
    """Count one attempt on the claimed rows and release them (only while this sender holds them)."""
    mine = and_(O.c.key == claimed.key, O.c.lease_token == claimed.token, O.c.status == "pending")
    for row in conn.execute(select(O.c.id, O.c.attempt_log).where(mine)).all():
        log = [*(row.attempt_log or []), {"at": now.isoformat(timespec="seconds"), "error": error}]
        conn.execute(update(O).where(O.c.id == row.id).values(
            attempts=O.c.attempts + 1, attempt_log=log, last_error=error, lease_until=None, lease_token=None, **values))
