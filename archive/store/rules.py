"""Per-site ignore rules: regular expressions for paragraphs that are noise on one site."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from archive.errors import ArchiveError, InvalidInput
from archive.schema import models as m


def add_noise_rule(engine: Engine, host: str, pattern: str) -> None:
    """Add a rule; the pattern must compile."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise InvalidInput(f"bad regular expression {pattern!r}: {exc}") from exc
    with Session(engine) as session, session.begin():
        exists = session.scalar(select(m.SiteRule).where(m.SiteRule.host == host.lower(),
                                                         m.SiteRule.pattern == pattern))
        if exists is None:
            session.add(m.SiteRule(host=host.lower(), pattern=pattern))


def remove_noise_rule(engine: Engine, host: str, pattern: str) -> None:
    with Session(engine) as session, session.begin():
        gone = session.execute(delete(m.SiteRule).where(m.SiteRule.host == host.lower(),
                                                        m.SiteRule.pattern == pattern))
        if not gone.rowcount:  # type: ignore[attr-defined]
            raise ArchiveError(f"no rule {pattern!r} for {host}; see 'redline ignore list'")


def list_rules(engine: Engine) -> list[dict[str, str]]:
    with Session(engine) as session:
        rows = session.scalars(select(m.SiteRule).order_by(m.SiteRule.host, m.SiteRule.id))
        return [{"host": r.host, "pattern": r.pattern} for r in rows]


def list_templates(engine: Engine) -> list[dict[str, Any]]:
    """Learned template paragraphs with the evidence they were learned on (None where it predates evidence)."""
    with Session(engine) as session:
        rows = session.scalars(select(m.TemplateParagraph).order_by(m.TemplateParagraph.host,
                                                                    m.TemplateParagraph.first_seen))
        return [{"host": r.host, "hash": r.hash, "first_seen": r.first_seen.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "text": r.text, "articles": r.witnesses, "of_articles": r.seen, "examples": r.examples or []}
                for r in rows]


def forget_templates(engine: Engine, host: str, digest: str | None) -> int:
    """Forget one learned template paragraph of a site (``digest``), or all of them (None); how many went."""
    query = delete(m.TemplateParagraph).where(m.TemplateParagraph.host == host.lower())
    if digest is not None:
        query = query.where(m.TemplateParagraph.hash == digest)
    with Session(engine) as session, session.begin():
        gone = session.execute(query).rowcount  # type: ignore[attr-defined]
    if not gone:
        what = f"template paragraph {digest}" if digest else "learned template paragraphs"
        raise ArchiveError(f"no {what} for {host}; see 'redline ignore list'")
    return int(gone)
