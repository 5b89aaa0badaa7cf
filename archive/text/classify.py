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
    """The parts of a version that decide whether it changed (all in comparable form).

    ``updated`` is the update time the page states (None: it states none); ``known`` is False when it was
    read by a signal Redline no longer trusts (``archive.text.stamps.RETIRED_SIGNALS``), so whether it
    moved cannot be told."""

    title: str
    byline: str
    updated: str | None
    paragraphs: tuple[str, ...]
    known: bool = True


@dataclass(frozen=True)
class Change:
    """How a version differs from the one before.

    ``declared``: the stated update time moved (None: cannot be told); ``undeclared``: the text changed
    on a page that states no update time, so there was nothing to move; ``stealth``: the text changed and
    the stated update time did not move."""

    kinds: list[str]
    added_words: int
    removed_words: int
    declared: bool | None
    trivial: str | None = None  # see archive.significance; not stored, used to decide on alerts
    undeclared: bool = False

    @property
    def edits(self) -> bool:
        """Anything changed besides the declared update time (the only changes a flip-flop can undo)."""
        return any(k != "declared-update-only" for k in self.kinds)

    @property
    def stealth(self) -> bool:
        return self.declared is False and self.edits and not self.undeclared


def classify(old: State, new: State) -> Change:
    """Kinds of change from ``old`` to ``new``, in a stable order.

    >>> a = State("T", "By A", None, ("One two.", "Three."))
    >>> classify(a, State("T", "By A", None, ("One two.", "Three.", "Correction: it was four."))).kinds
    ['correction']
    >>> classify(a, State("T", "By A", "2024-01-02", a.paragraphs)).kinds
    ['declared-update-only']
    >>> c = classify(a, State("New T", "By A", None, ("One three.", "Three.")))
    >>> c.kinds, c.added_words, c.removed_words, c.declared, c.undeclared, c.stealth
    (['headline', 'body-edit'], 1, 1, False, True, False)
    >>> b = State("T", "By A", "2024-01-02", a.paragraphs)
    >>> c = classify(b, State("T", "By A", "2024-01-02", ("One three.", "Three.")))
    >>> c.declared, c.undeclared, c.stealth
    (False, False, True)
    >>> classify(State("T", "By A", "2024-01-01", a.paragraphs, known=False), b).kinds
    []
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
    edited = bool(kinds)
    known = old.known and new.known
    moved = known and old.updated != new.updated
    if not kinds and moved:
        kinds.add("declared-update-only")
    declared = (moved and new.updated is not None) if known or new.updated is None else None
    return Change([k for k in KINDS if k in kinds], added, removed, declared,
                  trivial([old.title, old.byline, *old.paragraphs], [new.title, new.byline, *new.paragraphs]),
                  undeclared=edited and new.updated is None)


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
