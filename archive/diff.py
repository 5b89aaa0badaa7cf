"""Diffs computed on demand: paragraph-aligned, word-level within changed paragraphs."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from difflib import SequenceMatcher, unified_diff

from archive.normalize import comparable, paragraphs

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


def changes(ops: list[Op]) -> list[dict[str, str]]:
    """The JSON form: only the changed pieces, holding the changed text itself."""
    return [{"op": o.op, "old": o.old, "new": o.new} for o in ops if o.op != "equal"]


def render_words(ops: list[Op], style: "Styler") -> str:
    """Changed paragraphs only, with git-style or coloured markers around changed words."""
    text = "".join(o.old if o.op == "equal" else style(o) for o in ops)
    marked = [p for p in text.split("\n\n") if style.touched(p)]
    return "\n\n".join(marked)


class Styler:
    """Marks deletions and insertions: ``[-old-]{+new+}`` or ANSI colours."""

    def __init__(self, color: bool) -> None:
        self.color = color
        if color:
            self.dl, self.dr, self.il, self.ir = "\x1b[9;31m", "\x1b[0m", "\x1b[4;32m", "\x1b[0m"
        else:
            self.dl, self.dr, self.il, self.ir = "[-", "-]", "{+", "+}"

    def __call__(self, op: Op) -> str:
        out = ""
        if op.old and op.op in ("delete", "replace"):
            out += _wrap(op.old, self.dl, self.dr)
        if op.new and op.op in ("insert", "replace"):
            out += _wrap(op.new, self.il, self.ir)
        return out

    def touched(self, paragraph: str) -> bool:
        return self.dl in paragraph or self.il in paragraph


def _wrap(text: str, left: str, right: str) -> str:
    """Mark each paragraph of ``text`` separately, so markers never span paragraphs."""
    return "\n\n".join(f"{left}{piece}{right}" if piece else piece for piece in text.split("\n\n"))


def unified(old_text: str, new_text: str, old_label: str, new_label: str, context: int = 3) -> str:
    """A unified diff over paragraph lines, as ``patch`` and ``delta`` read it."""
    old_lines = [line + "\n" for line in old_text.split("\n")] if old_text else []
    new_lines = [line + "\n" for line in new_text.split("\n")] if new_text else []
    return "".join(unified_diff(old_lines, new_lines, old_label, new_label, n=context))
