"""``redline.history.jsonl``: what txt, md and jsonl exports carry beside the versions themselves.

One JSON object per line, each with ``schema_version`` (1) and ``record`` saying what it is:

* ``{"record": "event", "url", "at", "kind", "detail", "after_version", "status"}``: an article's event
  (gone, restored, failed, ...), in recording order; ``after_version`` is the number of the last version
  recorded before it (0 when none), so an import replays it in the same place even when the event
  and a version fall in the same second; ``status`` is the HTTP status of the fetch that made it (null
  when none answered), so a page that answered 200 and gave no article comes back as one;
* ``{"record": "rule", "host", "pattern"}``: a per-site noise rule (``redline ignore add``), in the order
  they were added;
* ``{"record": "template", "host", "hash", "first_seen", "text", "witnesses", "seen", "examples"}``: a
  learned template paragraph with the evidence it was learned on.

Events are those of the exported articles recorded after the first exported version of each (all of
them with ``--all-versions``), at or after ``since``; rules and templates are those of the exported
articles' sites. Lines are sorted (articles by URL key, events in recording order), so a re-run gives
the same bytes.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.exports.selection import Selected
from archive.queries import iso
from archive.schema import models as m

HISTORY_NAME = "redline.history.jsonl"
SCHEMA_VERSION = 1


def history_lines(session: Session, selected: list[Selected], since: datetime | None) -> list[dict[str, Any]]:
    """The history records of the selected versions' articles and sites."""
    first: dict[int, int] = {}
    articles: dict[int, m.Article] = {}
    for sel in selected:
        articles[sel.article.id] = sel.article
        first[sel.article.id] = min(first.get(sel.article.id, sel.version.number), sel.version.number)
    lines = []
    for article in sorted(articles.values(), key=lambda a: a.key):
        lines += _events(session, article, first[article.id], since)
    hosts = sorted({a.host for a in articles.values()})
    for rule in session.scalars(select(m.SiteRule).where(m.SiteRule.host.in_(hosts))
                                .order_by(m.SiteRule.host, m.SiteRule.id)):  # as 'ignore list' shows them
        lines.append({"schema_version": SCHEMA_VERSION, "record": "rule", "host": rule.host, "pattern": rule.pattern})
    for tp in session.scalars(select(m.TemplateParagraph).where(m.TemplateParagraph.host.in_(hosts))
                              .order_by(m.TemplateParagraph.host, m.TemplateParagraph.hash)):
        lines.append({"schema_version": SCHEMA_VERSION, "record": "template", "host": tp.host, "hash": tp.hash,
                      "first_seen": iso(tp.first_seen), "text": tp.text, "witnesses": tp.witnesses, "seen": tp.seen,
                      "examples": tp.examples})
    return lines


def _events(session: Session, article: m.Article, first: int, since: datetime | None) -> list[dict[str, Any]]:
    versions = session.execute(select(m.Version.number, m.Version.captured_at, m.Version.recovered_at)
                               .where(m.Version.article_id == article.id)).all()
    query = (select(m.Event, m.Fetch.status).outerjoin(m.Fetch, m.Fetch.id == m.Event.fetch_id)
             .where(m.Event.article_id == article.id))
    if since is not None:
        query = query.where(m.Event.at >= since)
    found = []
    for ev, status in session.execute(query.order_by(m.Event.at, m.Event.id)):
        after = max((n for n, captured, recovered in versions if (recovered or captured) <= ev.at), default=0)
        if after + 1 >= first:
            found.append({"schema_version": SCHEMA_VERSION, "record": "event", "url": article.key, "at": iso(ev.at),
                          "kind": ev.kind, "detail": ev.detail, "after_version": after, "status": status})
    return found


def render_history(lines: list[dict[str, Any]]) -> bytes:
    """The file's bytes."""
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode("utf-8")
