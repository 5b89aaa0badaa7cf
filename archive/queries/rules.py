"""The per-site noise rules and the learned template paragraphs, as ``redline ignore list`` shows them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from archive.queries.common import Db, connected
from archive.schema import tables as t


@dataclass(frozen=True)
class NoiseRule:
    """A per-site pattern: paragraphs of that site it matches are noise."""

    host: str
    pattern: str


@dataclass(frozen=True)
class LearnedTemplate:
    """A paragraph learned as a site's template noise, with the evidence it was learned on (None where it
    predates evidence)."""

    host: str
    hash: str
    first_seen: datetime
    text: str | None
    articles: int | None        # distinct articles it changed in, near-duplicates counted once
    of_articles: int | None     # distinct articles of the site the evidence was gathered over
    examples: list[str]


def noise_rules(db: Db) -> list[NoiseRule]:
    """Every per-site rule, by host, oldest first."""
    R = t.site_rules
    with connected(db) as conn:
        return [NoiseRule(r.host, r.pattern) for r in conn.execute(select(R.c.host, R.c.pattern)
                                                                    .order_by(R.c.host, R.c.id))]


def learned_templates(db: Db) -> list[LearnedTemplate]:
    """Every learned template paragraph, by host, oldest first."""
    T = t.template_paragraphs
    with connected(db) as conn:
        rows = conn.execute(select(T).order_by(T.c.host, T.c.first_seen)).all()
    return [LearnedTemplate(r.host, r.hash, r.first_seen, r.text, r.witnesses, r.seen, r.examples or [])
            for r in rows]
