"""Diffs computed on demand: paragraph-aligned, word-level within changed paragraphs.

Pure data: how a diff is shown (markers, colours) is :mod:`redline.render`'s business."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from difflib import SequenceMatcher, unified_diff

from archive.text.normalize import comparable, paragraphs

TOKENS = re.compile(r"\S+\s*|\s+")  # a word with its trailing space, so runs of changed words group
MAX_WORD_TOKENS = 40_000  # beyond this a changed block is shown whole, not word by word


@dataclass(frozen=True)
class Op:
    """One piece of a diff: ``equal``, ``insert``, ``delete`` or ``replace``."""

    op: str
    old: str
    new: str


def word_ops(old_text: str, new_text: str) -> list[Op]:
    """Word-level operations, aligned on paragraphs first. Words that differ only in
    Unicode form, quote style or spacing count as equal.

    >>> [o for o in word_ops("A b c.\\n\\nSame.", "A x c.\\n\\nSame.") if o.op != "equal"]
    [Op(op='replace', old='b', new='x')]
    >>> [o.op for o in word_ops("\u201cQuoted\u201d  text", '"Quoted" text')]
    ['equal']
    """
    old_paras, new_paras = paragraphs(old_text), paragraphs(new_text)
    ops: list[Op] = []
    matcher = SequenceMatcher(a=old_paras, b=new_paras, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        old_block, new_block = "\n\n".join(old_paras[i1:i2]), "\n\n".join(new_paras[j1:j2])
        if ops:
            ops.append(Op("equal", "\n\n", "\n\n"))
        if tag == "equal":
            ops.append(Op("equal", old_block, new_block))
        elif tag == "replace":
            ops.extend(_words(old_block, new_block))
        else:
            ops.append(Op(tag, old_block, new_block))
    return _merge(ops)


def _words(old: str, new: str) -> Iterator[Op]:
    a, b = TOKENS.findall(old), TOKENS.findall(new)
    if len(a) + len(b) > MAX_WORD_TOKENS:
        yield Op("replace", old, new)
        return
    keys_a, keys_b = [comparable(t) for t in a], [comparable(t) for t in b]
    for tag, i1, i2, j1, j2 in SequenceMatcher(a=keys_a, b=keys_b, autojunk=False).get_opcodes():
        old_part, new_part = "".join(a[i1:i2]), "".join(b[j1:j2])
        space = _trailing_space(old_part)
        if tag == "replace" and space and space == _trailing_space(new_part):
            yield Op(tag, old_part[:-len(space)], new_part[:-len(space)])
            yield Op("equal", space, space)
        else:
            yield Op(tag, old_part, new_part)


def _trailing_space(text: str) -> str:
    return text[len(text.rstrip()):]


def _merge(ops: list[Op]) -> list[Op]:
    merged: list[Op] = []
    for op in ops:
        if merged and merged[-1].op == op.op == "equal":
            merged[-1] = Op("equal", merged[-1].old + op.old, merged[-1].new + op.new)
        elif op.old or op.new:
            merged.append(op)
    return merged


@dataclass(frozen=True)
class Where:
    """Where a change sits: the number of its paragraph (from 1) and the sentence(s) around it, both in
    the newer text, or in the older one for a deletion."""

    paragraph: int
    context: str


SENTENCE_END = re.compile(r"""[.!?…][)"'”’]*\s+""")


def locate(ops: list[Op]) -> list[Where]:
    """The place of each changed piece of ``ops`` (as ``word_ops`` gives them), in order.

    >>> locate(word_ops("One. About 12,000 homes. Two.\\n\\nEnd.", "One. About 21,000 homes. Two.\\n\\nEnd."))
    [Where(paragraph=1, context='About 21,000 homes.')]
    >>> locate(word_ops("A.\\n\\nGone.\\n\\nB.", "A.\\n\\nB.\\n\\nNew."))
    [Where(paragraph=2, context='Gone.'), Where(paragraph=3, context='New.')]
    """
    old_text, new_text = "".join(o.old for o in ops), "".join(o.new for o in ops)
    found, at_old, at_new = [], 0, 0
    for op in ops:
        if op.op != "equal":
            text, start, piece = (new_text, at_new, op.new) if op.new else (old_text, at_old, op.old)
            # paragraphs before this one: the other side's blocks leave empty pieces between separators
            before = sum(1 for p in text[:start].split("\n\n")[:-1] if p.strip())
            found.append(Where(before + 1, _sentences(text, start, start + len(piece))))
        at_old, at_new = at_old + len(op.old), at_new + len(op.new)
    return found


def _sentences(text: str, start: int, end: int) -> str:
    """The whole sentences of ``text`` that overlap ``start:end``, within its paragraph."""
    found = text.rfind("\n\n", 0, start)
    para_start = 0 if found < 0 else found + 2
    found = text.find("\n\n", end)
    para_end = len(text) if found < 0 else found
    ends_before = [m.end() for m in SENTENCE_END.finditer(text, para_start, start)]
    after = SENTENCE_END.search(text, max(start, end - 1), para_end)
    return text[ends_before[-1] if ends_before else para_start:after.end() if after else para_end].strip()


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of a diff: its spans (``Op`` pieces that never cross a paragraph break) and
    whether any of them changed. Equal spans hold each version's own text: ``old`` is the old one's (or the
    new one's where it only adds the space before an insertion), for reading in order; ``new`` the new
    one's, which may differ from it in dashes, quotes or spaces."""

    spans: tuple[Op, ...]
    changed: bool


def paragraph_spans(ops: list[Op]) -> list[Paragraph]:
    """``ops`` cut at paragraph breaks, in reading order: the old side of a change, then its new side.

    >>> [(p.changed, [s.op for s in p.spans]) for p in paragraph_spans(word_ops("A b.\\n\\nSame.", "A c.\\n\\nSame."))]
    [(True, ['equal', 'replace']), (False, ['equal'])]
    >>> paragraph_spans(word_ops("A - b.", "A \u2014 c."))[0].spans[0]
    Op(op='equal', old='A - ', new='A \u2014 ')
    >>> [p.spans for p in paragraph_spans(word_ops("Said - so.\\n\\nGone.", "Said \u2014 so."))][0]
    (Op(op='equal', old='Said - so.', new='Said \u2014 so.'),)
    """
    paras: list[list[Op]] = [[]]

    def add(kind: str, text: str, new: str = "") -> None:
        pieces = text.split("\n\n")
        # an equal run's new side, paragraph by paragraph; unpaired when the two sides break it differently
        news = [p for p in new.split("\n\n") if p]
        paired = iter(news if len(news) == sum(1 for p in pieces if p) else pieces)
        for k, piece in enumerate(pieces):
            if k:
                paras.append([])
            if piece:
                paras[-1].append(Op(kind, piece, next(paired)) if kind == "equal" else
                                 Op(kind, piece if kind == "delete" else "", piece if kind == "insert" else ""))

    for op in ops:
        if op.op == "equal":  # the old text, unless the new one only adds the space before an insertion
            add("equal", op.new if op.new.startswith(op.old) else op.old, op.new)
        elif op.op == "replace" and op.old and op.new and "\n\n" not in op.old + op.new:
            paras[-1].append(op)
        else:
            add("delete", op.old if op.op != "insert" else "")
            add("insert", op.new if op.op != "delete" else "")
    return [Paragraph(tuple(p), any(s.op != "equal" for s in p)) for p in paras]


def unified(old_text: str, new_text: str, old_label: str, new_label: str, context: int = 3) -> str:
    """A unified diff over paragraph lines, as ``patch`` and ``delta`` read it."""
    old_lines = [line + "\n" for line in old_text.split("\n")] if old_text else []
    new_lines = [line + "\n" for line in new_text.split("\n")] if new_text else []
    return "".join(unified_diff(old_lines, new_lines, old_label, new_label, n=context))


def marked(paragraphs: list[Paragraph]) -> str:
    """The changed paragraphs with ``[-removed-]{+added+}`` around changed words: a diff that survives
    plain text (citations, alerts, copied notes).

    >>> print(marked(paragraph_spans(word_ops("A b.\\n\\nSame.", "A c.\\n\\nSame."))))
    A [-b.-]{+c.+}
    >>> print(marked(paragraph_spans(word_ops("Prices rose.", "Prices rose. Police said more."))))
    Prices rose. {+Police said more.+}
    """
    def piece(span: Op) -> str:
        old = f"[-{span.old}-]" if span.old and span.op in ("delete", "replace") else ""
        new = f"{{+{span.new}+}}" if span.new and span.op in ("insert", "replace") else ""
        return span.old if span.op == "equal" else old + new

    return "\n\n".join("".join(piece(s) for s in p.spans) for p in paragraphs if p.changed)
