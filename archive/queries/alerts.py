"""Alert rules and the outbox log."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from archive.queries.common import A, Db, E, Page, connected, cursor_values, make_page
from archive.schema import tables as t


@dataclass(frozen=True)
class AlertRule:
    """An alert rule as stored, with how many of its alerts are pending, sent and failed."""

    name: str
    targets: list[str]
    sites: list[str]
    job: str | None
    kinds: list[str] | None
    stealth_only: bool
    min_words: int
    include_trivial: bool
    digest: str | None
    paused: bool
    created_at: datetime
    pending: int
    sent: int
    failed: int


def alert_rules(db: Db) -> list[AlertRule]:
    """Every alert rule by name, with its outbox counts."""
    AR, O = t.alert_rules, t.alert_outbox
    counts = {name: func.count().filter(O.c.status == name) for name in ("pending", "sent", "failed")}
    tally = (select(O.c.rule_id, *(c.label(n) for n, c in counts.items())).group_by(O.c.rule_id).subquery())
    query = (select(AR.c.name, AR.c.targets, AR.c.sites, AR.c.job, AR.c.kinds, AR.c.stealth_only, AR.c.min_words,
                    AR.c.include_trivial, AR.c.digest, AR.c.paused, AR.c.created_at,
                    *(func.coalesce(tally.c[n], 0) for n in counts))
             .outerjoin(tally, tally.c.rule_id == AR.c.id).order_by(AR.c.name))
    with connected(db) as conn:
        return [AlertRule(*r[:5], bool(r.stealth_only), r.min_words, bool(r.include_trivial), r.digest,
                          bool(r.paused), *r[10:]) for r in conn.execute(query)]


@dataclass(frozen=True)
class AlertEntry:
    """One outbox row: one message to one target about one version (rows sharing a key are one digest)."""

    id: int
    key: str | None
    rule: str
    target: str
    url: str
    version: int
    created_at: datetime
    due_at: datetime
    status: str
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None
    attempt_log: list[dict[str, Any]]
    event: str | None = None    # "gone" or "restored" for a takedown's alert (``version``: the latest then)


def alert_log(db: Db, *, rule: str | None = None, status: str | None = None, limit: int | None = 50,
              after: str | None = None) -> Page[AlertEntry]:
    """Outbox rows, newest first; ``next_attempt_at`` only for pending rows."""
    O = t.alert_outbox
    query = (select(O.c.id, O.c.key, O.c.rule, O.c.target, A.c.key.label("url"), O.c.version, O.c.created_at,
                    O.c.due_at, O.c.status, O.c.attempts, O.c.next_attempt_at, O.c.sent_at, O.c.last_error,
                    O.c.attempt_log, E.c.kind.label("event"))
             .join(A, A.c.id == O.c.article_id).outerjoin(E, E.c.id == O.c.event_id).order_by(O.c.id.desc()))
    if rule:
        query = query.where(O.c.rule == rule)
    if status:
        query = query.where(O.c.status == status)
    if after is not None:
        (last_id,) = cursor_values(after, int)
        query = query.where(O.c.id < last_id)
    if limit is not None:
        query = query.limit(limit + 1)
    with connected(db) as conn:
        rows = [AlertEntry(*r[:10], r.next_attempt_at if r.status == "pending" else None, r.sent_at, r.last_error,
                           r.attempt_log or [], r.event) for r in conn.execute(query)]
    return make_page(rows, limit, lambda e: (e.id,))
