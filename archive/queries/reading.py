"""Reading stored versions with plain table queries: their text and what counts as noise.

Shared by the store's writer (through an ORM Session) and the view commands (through a Core
Connection); it imports no ``sqlalchemy.orm``, so ``show`` and ``diff`` start fast.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, bindparam, select

from archive.schema import tables as t
from archive.text.noise import compile_patterns, noise_rule, strip_spans, strip_spans_as_captured
from archive.text.normalize import comparable, paragraphs
from archive.text.notices import is_editorial_notice
from archive.text.textpack import unpack

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from archive.schema.models import Version


def read_text(db: Session | Connection, version: Version | Row[Any]) -> str:
    """A version's text, unpacking its delta chain back to the last full snapshot.

    ``version`` is a Version or a row with its article_id, text_base and text_blob; the chain's
    earlier links come in one recursive query.
    """
    blobs = [version.text_blob]
    if version.text_base is not None:
        blobs += db.scalars(_CHAIN_BLOBS, {"article": version.article_id, "base": version.text_base}).all()
    text: str | None = None
    for blob in reversed(blobs):
        text = unpack(blob, text)
    assert text is not None
    return text


def read_pair(db: Session | Connection, older: Version | Row[Any], newer: Version | Row[Any]) -> tuple[str, str]:
    """Two versions' texts. A newer version stored as a delta against the older one (the usual case for
    consecutive versions) is unpacked from it, so the delta chain is walked once, not twice."""
    old_text = read_text(db, older)
    if newer.article_id == older.article_id and newer.text_base == older.number:
        return old_text, unpack(newer.text_blob, old_text)
    return old_text, read_text(db, newer)


def _chain_blobs() -> Any:
    """Blobs of the delta chain from version ``base`` back to its whole copy, newest first."""
    link = t.versions.alias("link")
    chain = (select(t.versions.c.number, t.versions.c.text_base, t.versions.c.text_blob)
             .where(t.versions.c.article_id == bindparam("article"), t.versions.c.number == bindparam("base"))
             .cte("chain", recursive=True))
    chain = chain.union_all(select(link.c.number, link.c.text_base, link.c.text_blob)
                            .where(link.c.article_id == bindparam("article"), link.c.number == chain.c.text_base))
    return select(chain.c.text_blob).order_by(chain.c.number.desc())


_CHAIN_BLOBS = _chain_blobs()


class SiteNoise:
    """What counts as noise on one site: default patterns, the site's rules, learned template paragraphs,
    and the paragraphs a page's own markup marks as boilerplate (link-dense teasers)."""

    def __init__(self, db: Session | Connection, host: str) -> None:
        self.host = host
        self.rules = compile_patterns(db.scalars(_RULES, {"host": host}))
        self.templates = set(db.scalars(_TEMPLATES, {"host": host}))

    def skipped_by(self, paras: Sequence[str], hashes: Iterable[str], boilerplate: set[str],
                   language: str | None = None) -> list[str | None]:
        """For each comparable paragraph, the name of the rule that skips it, or None when it is significant.

        An editorial notice (a correction, an editor's note) is never skipped by a default rule, a learned
        template or boilerplate detection; only a rule the user wrote for the site can skip it.
        """
        skipped: list[str | None] = []
        for para, h in zip(paras, hashes):
            if is_editorial_notice(para):
                skipped.append(next((f"site:{r.pattern}" for r in self.rules if r.search(para)), None))
            else:
                rule = noise_rule(para, language, self.rules)
                skipped.append(rule or ("template" if h in self.templates else "boilerplate" if h in boilerplate
                                        else None))
        return skipped

    def mask(self, paras: Sequence[str], hashes: Iterable[str], boilerplate: set[str],
             language: str | None = None) -> list[bool]:
        """For each comparable paragraph, True when it is significant (not noise)."""
        return [rule is None for rule in self.skipped_by(paras, hashes, boilerplate, language)]

    def significant_text(self, text: str, version: Version | Row[Any]) -> str:
        """A version's text without its noise paragraphs, and without the teasers and stamps found inside
        longer paragraphs, as diffs show it by default. Noise is decided on the compared form; what is
        returned keeps the page's own characters (dashes, quotes, spaces), for showing."""
        spans = version.noise_spans or []
        paras = paragraphs(text)
        compared = [strip_spans(comparable(p), spans) if spans else comparable(p) for p in paras]
        shown = [strip_spans_as_captured(p, spans) if spans else p for p in paras]
        keep = self.mask(compared, version.paragraph_hashes, set(version.noise_hashes), version.language)
        return "\n\n".join(p for p, k in zip(shown, keep) if k)


_RULES = select(t.site_rules.c.pattern).where(t.site_rules.c.host == bindparam("host"))
_TEMPLATES = select(t.template_paragraphs.c.hash).where(t.template_paragraphs.c.host == bindparam("host"))
