"""Per-site ignore rules: regular expressions for paragraphs that are noise on one site."""
from __future__ import annotations

import re

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from archive import models as m
from archive.db import ArchiveError


def add_rule(engine: Engine, host: str, pattern: str) -> None:
    """Add a rule; the pattern must compile."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ArchiveError(f"bad regular expression {pattern!r}: {exc}") from exc
    with Session(engine) as session, session.begin():
        exists = session.scalar(select(m.SiteRule).where(m.SiteRule.host == host.lower(),
                                                         m.SiteRule.pattern == pattern))
        if exists is None:
            session.add(m.SiteRule(host=host.lower(), pattern=pattern))


def remove_rule(engine: Engine, host: str, pattern: str) -> None:
    with Session(engine) as session, session.begin():
        gone = session.execute(delete(m.SiteRule).where(m.SiteRule.host == host.lower(),
                                                        m.SiteRule.pattern == pattern))
        if not gone.rowcount:  # type: ignore[attr-defined]
            raise ArchiveError(f"no rule {pattern!r} for {host}; see 'redline ignore list'")


def list_rules(engine: Engine) -> list[dict[str, str]]:
    with Session(engine) as session:
        rows = session.scalars(select(m.SiteRule).order_by(m.SiteRule.host, m.SiteRule.id))
        return [{"host": r.host, "pattern": r.pattern} for r in rows]
