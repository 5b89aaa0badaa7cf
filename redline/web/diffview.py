"""A diff laid out for the web: one row per paragraph, with old and new sides for side-by-side reading,
the reading order for inline reading, moved paragraphs paired and near-total rewrites shown whole; and
the "changes only" view of those rows: each changed paragraph with its neighbours, the rest counted."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from archive.queries import iso
from archive.text.normalize import comparable
from redline.web.markup import visible

if TYPE_CHECKING:
    from archive.queries import Diff
    from archive.text.diff import Op, Paragraph

REWRITTEN_BELOW = 0.35  # share of a changed paragraph's text left unchanged below which it is shown whole
CONTEXT = 1  # unchanged paragraphs shown on each side of a change in the "changes only" view


@dataclass(frozen=True)
class Piece:
    """A run of text: ``eq`` (unchanged), ``del`` (deleted) or ``ins`` (inserted)."""

    kind: str
    text: str


@dataclass(frozen=True)
class Row:
    """One paragraph: ``same``, ``changed``, ``rewritten``, ``added``, ``removed``, ``moved-from`` or
    ``moved-to`` (``partner`` is then the index of the row it moved to or from)."""

    kind: str
    old: tuple[Piece, ...]
    new: tuple[Piece, ...]
    inline: tuple[Piece, ...]
    partner: int | None = None


@dataclass(frozen=True)
class Gap:
    """Unchanged paragraphs the "changes only" view leaves out; ``first`` is the index of the first."""

    first: int
    count: int

    @property
    def label(self) -> str:
        """What the gap says, singular or plural.

        >>> Gap(0, 1).label, Gap(4, 3).label
        ('1 unchanged paragraph', '3 unchanged paragraphs')
        """
        return f"{self.count} unchanged paragraph{'' if self.count == 1 else 's'}"


def full(rows: list[Row]) -> list[tuple[int, Row] | Gap]:
    """Every row, with its index (its anchor, ``#pN``)."""
    return list(enumerate(rows))


def changes_only(rows: list[Row], context: int = CONTEXT) -> list[tuple[int, Row] | Gap]:
    """The changed rows, each with ``context`` unchanged rows either side, and a Gap for each run left out.

    >>> same, edit = Row("same", (), (), ()), Row("changed", (), (), ())
    >>> shown = changes_only([same, same, same, edit, same, same, same, same, edit])
    >>> [x.label if isinstance(x, Gap) else x[0] for x in shown]
    ['2 unchanged paragraphs', 2, 3, 4, '2 unchanged paragraphs', 7, 8]
    >>> [x.label for x in changes_only([same, same])]
    ['2 unchanged paragraphs']
    """
    changed = [i for i, r in enumerate(rows) if r.kind != "same"]
    keep = {j for i in changed for j in range(i - context, i + context + 1) if 0 <= j < len(rows)}
    out: list[tuple[int, Row] | Gap] = []
    for i, r in enumerate(rows):
        if i in keep:
            out.append((i, r))
        elif out and isinstance(out[-1], Gap):
            out[-1] = Gap(out[-1].first, out[-1].count + 1)
        else:
            out.append(Gap(i, 1))
    return out


def pieces(spans: tuple[Op, ...]) -> tuple[tuple[Piece, ...], tuple[Piece, ...], tuple[Piece, ...]]:
    """The old side, the new side and the reading order (old then new at each change) of some spans.

    >>> from archive.text.diff import Op
    >>> old, new, inline = pieces((Op("equal", "A ", "A "), Op("replace", "b", "c")))
    >>> [p.text for p in old], [p.text for p in new], [p.kind for p in inline]
    (['A ', 'b'], ['A ', 'c'], ['eq', 'del', 'ins'])
    """
    old: list[Piece] = []
    new: list[Piece] = []
    inline: list[Piece] = []
    for s in spans:
        if s.op == "equal":  # each side as its version has it, which may differ in dashes, quotes or spaces
            old.append(Piece("eq", s.old))
            new.append(Piece("eq", s.new))
            inline.append(Piece("eq", s.old))
            continue
        if s.old:
            old.append(Piece("del", s.old))
            inline.append(Piece("del", s.old))
        if s.new:
            new.append(Piece("ins", s.new))
            inline.append(Piece("ins", s.new))
    return tuple(old), tuple(new), tuple(inline)


def rows(paragraphs: list[Paragraph]) -> list[Row]:
    """Every paragraph of a diff as a row, moves paired (a removed paragraph that reappears elsewhere).

    >>> from archive.text.diff import paragraph_spans, word_ops
    >>> old = "Moved.\\n\\nKept one.\\n\\nKept two.\\n\\nTotally different words here."
    >>> new = "Kept one.\\n\\nKept two.\\n\\nNothing alike now, really.\\n\\nMoved."
    >>> [(r.kind, r.partner) for r in rows(paragraph_spans(word_ops(old, new)))]
    [('moved-from', 4), ('same', None), ('same', None), ('rewritten', None), ('moved-to', 0)]
    """
    out = [_row(p) for p in paragraphs]
    removed: dict[str, list[int]] = {}
    for i, r in enumerate(out):
        if r.kind == "removed":
            removed.setdefault(_key(r.old), []).append(i)
    for i, r in enumerate(out):
        sources = removed.get(_key(r.new)) if r.kind == "added" else None
        if sources:
            j = sources.pop(0)
            out[j] = Row("moved-from", out[j].old, (), (Piece("eq", _text(out[j].old)),), i)
            out[i] = Row("moved-to", (), r.new, (Piece("eq", _text(r.new)),), j)
    return out


def _row(p: Paragraph) -> Row:
    old, new, inline = pieces(p.spans)
    if not p.changed:
        return Row("same", old, new, inline)
    if not new:
        return Row("removed", old, new, inline)
    if not old:
        return Row("added", old, new, inline)
    kept = sum(len(x.text) for x in old if x.kind == "eq")
    if kept < REWRITTEN_BELOW * max(len(_text(old)), len(_text(new))):
        whole_old, whole_new = Piece("del", _text(old)), Piece("ins", _text(new))
        return Row("rewritten", (whole_old,), (whole_new,), (whole_old, whole_new))
    return Row("changed", old, new, inline)


def _text(side: tuple[Piece, ...]) -> str:
    return "".join(p.text for p in side)


def _key(side: tuple[Piece, ...]) -> str:
    return comparable(_text(side))


def field(old: str | None, new: str | None) -> tuple[Piece, ...]:
    """A metadata field (headline, byline, a date) old -> new, word by word; empty when unchanged, in the
    compared form (the page then shows the newer version's own text).

    >>> [(p.kind, p.text) for p in field("Old title", "New title")]
    [('del', 'Old'), ('ins', 'New'), ('eq', ' title')]
    >>> field("Pact - in force", "Pact \u2014 in force")
    ()
    """
    from archive.text.diff import word_ops

    if comparable(old or "") == comparable(new or "") and (old is None) == (new is None):
        return ()
    return pieces(tuple(word_ops(old or "", new or "")))[2]


def citation(host: str, d: Diff, permalink: str) -> str:
    """One line to paste into a story or a note: outlet, headline, URL, the two versions with their capture
    times, and the diff's permalink (invisible characters in addresses shown as ``<U+XXXX>``).

    >>> from datetime import datetime, UTC
    >>> from archive.queries import FieldChange, VersionStamp, Diff
    >>> d = Diff("https://e.example/a", VersionStamp(1, datetime(2026, 12, 6, 9, tzinfo=UTC)),
    ...          VersionStamp(3, datetime(2026, 12, 6, 11, tzinfo=UTC)), FieldChange("Old", "Pact\\n signed"),
    ...          FieldChange(None, None), FieldChange(None, None), [], [], "", "")
    >>> citation("e.example", d, "/a/3f9a1c07b2/diff/1/3")
    'e.example, "Pact signed", https://e.example/a, version 1 (captured 2026-12-06T09:00:00Z) → version 3 \
(captured 2026-12-06T11:00:00Z), /a/3f9a1c07b2/diff/1/3'
    """
    title = " ".join((d.title.new or d.title.old or "").split())
    sides = " → ".join(f"version {s.version} (captured {iso(s.captured_at)})" for s in (d.old, d.new))
    return ", ".join(x for x in (visible(host), f'"{title}"' if title else "", visible(d.url), sides,
                                 visible(permalink)) if x)
