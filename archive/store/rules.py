"""Per-site ignore rules: regular expressions for paragraphs that are noise on one site."""
from __future__ import annotations

import re

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from archive.errors import ArchiveError, InvalidInput
from archive.schema import models as m
from archive.text.normalize import check_host

# Paragraphs of every sort: a rule that matches all of them (or the empty string) hides every edit.
SAMPLES = ("Officials said the treaty would take effect on Thursday, according to a statement.", "12,345 views",
           "Correction: An earlier version of this article misstated the date.", "Lesen Sie auch: Die Wahl",
           "«Nous verrons», a-t-il dit.", "2024", "—")


def check_pattern(pattern: str, force: bool = False) -> re.Pattern[str]:
    """A rule's compiled pattern, or InvalidInput when it does not compile or (unless ``force``) matches
    every paragraph.

    >>> check_pattern(".*")
    Traceback (most recent call last):
    ...
    archive.errors.InvalidInput: rule '.*' matches every paragraph (it matches an empty one), so it would hide every edit; give a narrower pattern, or --force
    """
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise InvalidInput(f"bad regular expression {pattern!r}: {exc}") from exc
    if force:
        return compiled
    why = "it matches an empty one" if compiled.search("") else (
        "it matches every sample paragraph" if all(compiled.search(s) for s in SAMPLES) else None)
    if why:
        raise InvalidInput(f"rule {pattern!r} matches every paragraph ({why}), so it would hide every edit; "
                           "give a narrower pattern, or --force")
    return compiled


def add_noise_rule(engine: Engine, host: str, pattern: str, force: bool = False) -> None:
    """Add a rule for a host name; the pattern must compile and (unless ``force``) not match everything."""
    host = check_host(host)
    check_pattern(pattern, force)
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
