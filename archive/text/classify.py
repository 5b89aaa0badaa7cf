"""Name what changed between two versions of an article."""
from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from archive.text.notices import is_editorial_notice
from archive.text.significance import trivial

KINDS = ("headline", "byline", "body-edit", "paragraph-added", "paragraph-removed", "correction",
         "declared-update-only")


@dataclass(frozen=True)
class State:
    """The parts of a version that decide whether it changed (all in comparable form)."""

    title: str
    byline: str
    updated: str | None
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Change:
    kinds: list[str]
    added_words: int
    removed_words: int
    declared: bool
    trivial: str | None = None  # see archive.significance; not stored, used to decide on alerts


def classify(old: State, new: State) -> Change:
    """Kinds of change from ``old`` to ``new``, in a stable order.

    >>> a = State("T", "By A", None, ("One two.", "Three."))
    >>> classify(a, State("T", "By A", None, ("One two.", "Three.", "Correction: it was four."))).kinds
    ['correction']
    >>> classify(a, State("T", "By A", "2024-01-02", a.paragraphs)).kinds
    ['declared-update-only']
    >>> c = classify(a, State("New T", "By A", None, ("One three.", "Three.")))
    >>> c.kinds, c.added_words, c.removed_words, c.declared
    (['headline', 'body-edit'], 1, 1, False)
    """
    kinds: set[str] = set()
    if old.title != new.title:
        kinds.add("headline")
    if old.byline != new.byline:
        kinds.add("byline")
    added = removed = 0
    matcher = SequenceMatcher(a=old.paragraphs, b=new.paragraphs, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        inserted, deleted = new.paragraphs[j1:j2], old.paragraphs[i1:i2]
        if any(is_editorial_notice(p) for p in inserted):
            kinds.add("correction")
        elif op == "insert":
            kinds.add("paragraph-added")
        elif op == "delete":
            kinds.add("paragraph-removed")
        else:
            kinds.add("body-edit")
        plus, minus = word_delta(" ".join(deleted), " ".join(inserted))
        added, removed = added + plus, removed + minus
    declared = old.updated != new.updated and new.updated is not None
    if not kinds and old.updated != new.updated:
        kinds.add("declared-update-only")
    return Change([k for k in KINDS if k in kinds], added, removed, declared,
                  trivial([old.title, old.byline, *old.paragraphs], [new.title, new.byline, *new.paragraphs]))


def word_delta(old: str, new: str) -> tuple[int, int]:
    """Words inserted and deleted going from ``old`` to ``new``.

    >>> word_delta("a b c", "a x c d")
    (2, 1)
    """
    a, b = old.split(), new.split()
    added = removed = 0
    for op, i1, i2, j1, j2 in SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op != "equal":
            added, removed = added + (j2 - j1), removed + (i2 - i1)
    return added, removed
