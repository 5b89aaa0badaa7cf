"""Site template learning and site-wide edits: the evidence one crawl gathers, and what it decides.

A paragraph that changes identically on many articles of one site is one of two things:

- **site template noise**, learned and then skipped on every article of the site, only where the page
  itself says it is not the article's prose: the page marks it as boilerplate (a link-dense block) and
  it changed in at least ``TEMPLATE_MIN_ARTICLES`` distinct articles of the site in one crawl, half of
  those the crawl re-read; or it was there from the start, in the first capture of at least
  ``TEMPLATE_MIN_ARTICLES`` distinct new articles of the site in one crawl, four in five of them;
- otherwise, when it is significant, a **site-wide edit**: the same paragraph (or passage, see
  :func:`passages`) added to, or removed from, at least ``SITE_WIDE_MIN_ARTICLES`` distinct articles
  of one site in one crawl. Each article gets its version, and the versions are grouped ("added to 10
  articles of example.com"); versions written before the group formed join it then.

Evidence is gathered per crawl (:class:`CrawlEvidence`, which the pipeline keeps for the whole crawl),
never per write batch of 25: a crawl's evidence is the same however its captures fall into batches (a
template learned mid-crawl skips its paragraph from then on; fetches written before it keep their
'boilerplate' mark). Articles whose paragraphs
mostly coincide (one story at several URLs, near copies) are one witness. Editorial notices are never
learned and never grouped: each is a correction in its own article. Pure: no SQL.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from difflib import SequenceMatcher
from typing import Any

TEMPLATE_MIN_ARTICLES = 5
TEMPLATE_SHARE_MARKED = 0.5   # of the distinct articles of the site the crawl re-read
TEMPLATE_SHARE_FIRST = 0.8    # of the distinct new articles of the site the crawl first captured
SITE_WIDE_MIN_ARTICLES = 5
SAME_STORY = 0.5  # Jaccard similarity of two articles' paragraph sets above which they are one witness
MIN_PASSAGE_WORDS = 8  # words a passage added inside a paragraph needs to count as a site-wide edit's text
ADDED, REMOVED = "added", "removed"


def passages(old: Sequence[str], new: Sequence[str]) -> list[tuple[str, str]]:
    """What a version added and removed, as (action, text): whole paragraphs, and runs of at least
    ``MIN_PASSAGE_WORDS`` words added to or removed from a paragraph (an extractor may join a new
    paragraph to its neighbour, so the same sentence is one paragraph on one page and part of one on
    another).

    >>> passages(["One two."], ["One two.", "A new note."])
    [('added', 'A new note.')]
    >>> passages(["Intro text here."], ["Intro text here. This article was produced with the help of a tool."])
    [('added', 'This article was produced with the help of a tool.')]
    >>> passages(["Said on Tuesday."], ["Said on Wednesday."])
    []
    """
    found: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op in ("insert", "delete"):
            found += [(ADDED, p) for p in new[j1:j2]] + [(REMOVED, p) for p in old[i1:i2]]
        elif op == "replace":
            a, b = " ".join(old[i1:i2]).split(), " ".join(new[j1:j2]).split()
            for wop, w1, w2, v1, v2 in SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
                if wop != "equal" and v2 - v1 >= MIN_PASSAGE_WORDS:
                    found.append((ADDED, " ".join(b[v1:v2])))
                if wop != "equal" and w2 - w1 >= MIN_PASSAGE_WORDS:
                    found.append((REMOVED, " ".join(a[w1:w2])))
    return found


@dataclass
class Seen:
    """What one capture of one article tells the crawl's evidence."""

    article: int
    key: str
    first: bool                     # the first capture of a new article
    hashes: set[str]                # every paragraph's digest
    changed: set[str] = field(default_factory=set)   # digests added or removed against the latest version
    marked: set[str] = field(default_factory=set)    # digests the page marks as boilerplate (either side)
    texts: dict[str, str] = field(default_factory=dict)  # digest -> paragraph, for the digests above


@dataclass(frozen=True)
class Learned:
    """A paragraph to learn as site template noise, and the evidence it is learned on."""

    host: str
    hash: str
    text: str
    witnesses: int
    seen: int
    why: str        # "boilerplate" (the page marks it) or "first capture" (on new articles from the start)
    examples: tuple[str, ...]


@dataclass
class Member:
    """A version that added or removed a paragraph, as the writer recorded it."""

    article: int
    version: int
    row: int
    captured_at: datetime
    change: Any            # its classify.Change, to alert on it once it is grouped


@dataclass
class SiteEvidence:
    """One site's evidence in one crawl."""

    witness: dict[int, int] = field(default_factory=dict)          # article -> its witness
    bodies: dict[int, set[str]] = field(default_factory=dict)      # witness -> its paragraphs
    keys: dict[int, str] = field(default_factory=dict)
    reread: set[int] = field(default_factory=set)                  # articles compared with a latest version
    new: set[int] = field(default_factory=set)                     # articles first captured
    changed: dict[str, set[int]] = field(default_factory=dict)     # digest -> re-read articles it changed in
    first: dict[str, set[int]] = field(default_factory=dict)       # digest -> new articles it is in
    marked: set[str] = field(default_factory=set)
    texts: dict[str, str] = field(default_factory=dict)
    edits: dict[tuple[str, str], dict[int, Member]] = field(default_factory=dict)  # (action, digest) -> members
    grouped: set[tuple[str, str, int]] = field(default_factory=set)  # (action, digest, version row) written

    def add(self, seen: Seen) -> None:
        self.witness[seen.article] = self._witness_of(seen.article, seen.hashes)
        self.keys[seen.article] = seen.key
        (self.new if seen.first else self.reread).add(seen.article)
        target = self.first if seen.first else self.changed
        for h in seen.hashes if seen.first else seen.changed:
            target.setdefault(h, set()).add(seen.article)
        self.marked |= seen.marked
        for h, text in seen.texts.items():
            self.texts.setdefault(h, text)

    def _witness_of(self, article: int, body: set[str]) -> int:
        """The witness an article counts as: the first one seen whose paragraphs mostly coincide with its own.

        >>> site = SiteEvidence()
        >>> [site._witness_of(a, b) for a, b in [(1, {"a", "b", "c"}), (2, {"a", "b", "c", "x"}), (3, {"d"})]]
        [1, 1, 3]
        """
        if article in self.witness:
            return self.witness[article]
        for rep, other in self.bodies.items():
            union = body | other
            if union and len(body & other) / len(union) >= SAME_STORY:
                return rep
        self.bodies[article] = body
        return article

    def witnesses(self, articles: set[int]) -> int:
        return len({self.witness[a] for a in articles})

    def templates(self, host: str, known: set[str]) -> list[Learned]:
        """Paragraphs the crawl's evidence so far makes site template noise (``known`` ones aside)."""
        found = []
        seen, fresh = self.witnesses(self.reread), self.witnesses(self.new)
        for h, articles in self.changed.items():
            count = self.witnesses(articles)
            if (h in self.marked and h not in known and h in self.texts
                    and count >= max(TEMPLATE_MIN_ARTICLES, math.ceil(TEMPLATE_SHARE_MARKED * seen))):
                found.append(self._learned(host, h, articles, seen, "boilerplate"))
        for h, articles in self.first.items():
            count = self.witnesses(articles)
            if (h not in known and h in self.texts and count >= TEMPLATE_MIN_ARTICLES
                    and count >= TEMPLATE_SHARE_FIRST * fresh):
                found.append(self._learned(host, h, articles, fresh, "first capture"))
        return found

    def _learned(self, host: str, h: str, articles: set[int], seen: int, why: str) -> Learned:
        examples = tuple(sorted(self.keys[a] for a in articles)[:3])
        return Learned(host, h, self.texts[h], self.witnesses(articles), seen, why, examples)

    def edited(self, action: str, digest: str, text: str, member: Member) -> None:
        """Version ``member`` added (or removed) significant paragraph ``text``."""
        self.edits.setdefault((action, digest), {})[member.article] = member
        self.texts.setdefault(digest, text)

    def site_wide(self, grouped: set[tuple[str, str]]) -> list[tuple[str, str]]:
        """(action, digest) of the edits that are site-wide: grouped already (in an earlier crawl too),
        or made identically in enough distinct articles of the site in this crawl."""
        return [key for key, members in self.edits.items()
                if key in grouped or self.witnesses(set(members)) >= SITE_WIDE_MIN_ARTICLES]


@dataclass
class CrawlEvidence:
    """What one crawl has seen so far, per site; the pipeline keeps one for the whole crawl."""

    sites: dict[str, SiteEvidence] = field(default_factory=dict)
    learned: list[Learned] = field(default_factory=list)              # templates this crawl learned

    def site(self, host: str) -> SiteEvidence:
        return self.sites.setdefault(host, SiteEvidence())

    def site_wide_summary(self) -> list[dict[str, Any]]:
        """The site-wide edits this crawl recorded versions of: ``{"host", "action", "text", "articles"}``
        (``articles``: this crawl's versions of it; the group may have earlier ones)."""
        found = []
        for host, site in sorted(self.sites.items()):
            counts: dict[tuple[str, str], int] = {}
            for action, h, _row in site.grouped:
                counts[action, h] = counts.get((action, h), 0) + 1
            found += [{"host": host, "action": action, "text": site.texts[h], "articles": n}
                      for (action, h), n in sorted(counts.items())]
        return found
