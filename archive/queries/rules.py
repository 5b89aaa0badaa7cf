"""The per-site noise rules and the learned template paragraphs, as ``redline ignore list`` shows them."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, select

from archive.queries.common import Db, connected
from archive.schema import tables as t
from archive.text.normalize import digest


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

    @property
    def forget(self) -> str:
        """The command that forgets it (and recovers what it hid, with 'redline renoise')."""
        return f"redline ignore forget {self.host} {self.hash}"


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
    return [_learned(r) for r in rows]


def templates_among(db: Db, host: str, texts: Iterable[str]) -> list[LearnedTemplate]:
    """The learned template paragraphs of ``host`` among ``texts`` (paragraphs a fetch skipped as 'template')."""
    T = t.template_paragraphs
    hashes = sorted({digest(text) for text in texts})
    if not hashes:
        return []
    with connected(db) as conn:
        rows = conn.execute(select(T).where(and_(T.c.host == host, T.c.hash.in_(hashes))).order_by(T.c.first_seen))
        return [_learned(r) for r in rows]


def _learned(r: Row[Any]) -> LearnedTemplate:
    return LearnedTemplate(r.host, r.hash, r.first_seen, r.text, r.witnesses, r.seen, r.examples or [])
