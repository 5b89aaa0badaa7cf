"""Which changes are trivial: alert rules skip them unless asked (``--include-trivial``).

Texts are compared as the store compares them (significant paragraphs, comparable form:
NFKC, quotes and dashes unified, whitespace collapsed), title, byline and body together:

* ``punctuation-only``: the words are the same once punctuation (Unicode category P) is
  removed, except a mark between two digits; so "U.S." -> "US", an added comma or a moved
  paragraph break is trivial, but "10.5" -> "105" is not.
* ``one-letter``: every changed word was replaced by one word that differs from it by one
  letter (added, removed, replaced, or two neighbours swapped) or only in its capitals, both
  at least four characters long and made of letters only: "recieve" -> "receive",
  "colour" -> "color", "Obama" -> "obama".
  Shorter words never count ("now" -> "not" always alerts).
"""
from __future__ import annotations

import unicodedata
from difflib import SequenceMatcher

MIN_LETTERS = 4


def trivial(old: list[str], new: list[str]) -> str | None:
    """``punctuation-only``, ``one-letter`` or None for two texts (title, byline, paragraphs).

    >>> trivial(["The U.S. says no"], ["The US says, no"])
    'punctuation-only'
    >>> trivial(["Rates rose 10.5 percent"], ["Rates rose 105 percent"]) is None
    True
    >>> trivial(["They recieve aid"], ["They receive aid"])
    'one-letter'
    >>> trivial(["It is now law"], ["It is not law"]) is None
    True
    """
    a, b = " ".join(old).split(), " ".join(new).split()
    if a == b:
        return None
    if _unpunctuated(a) == _unpunctuated(b):
        return "punctuation-only"
    for op, i1, i2, j1, j2 in SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        if op != "replace" or i2 - i1 != j2 - j1 or not all(map(_one_letter, a[i1:i2], b[j1:j2])):
            return None
    return "one-letter"


def _unpunctuated(words: list[str]) -> list[str]:
    text = " ".join(words)
    kept = [c for i, c in enumerate(text) if not unicodedata.category(c).startswith("P")
            or (0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit())]
    return "".join(kept).split()


def _one_letter(old: str, new: str) -> bool:
    """Only the capitals changed, or one letter was added, removed, replaced or swapped with its neighbour.

    >>> _one_letter("colour", "color"), _one_letter("form", "from"), _one_letter("Obama", "obama")
    (True, True, True)
    >>> _one_letter("2024", "2025"), _one_letter("now", "not"), _one_letter("recieve,", "receive.")
    (False, False, True)
    """
    x, y = _core(old), _core(new)
    if min(len(x), len(y)) < MIN_LETTERS or not (x + y).isalpha():
        return False
    if len(x) == len(y):
        diff = [i for i, (p, q) in enumerate(zip(x, y)) if p != q]
        swapped = len(diff) == 2 and diff[1] == diff[0] + 1 and x[diff[0]] == y[diff[1]] and x[diff[1]] == y[diff[0]]
        return len(diff) <= 1 or swapped
    short, long = sorted((x, y), key=len)
    return len(long) - len(short) == 1 and any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def _core(word: str) -> str:
    """A word without the punctuation around it, in lower case."""
    start, end = 0, len(word)
    while start < end and unicodedata.category(word[start]).startswith("P"):
        start += 1
    while end > start and unicodedata.category(word[end - 1]).startswith("P"):
        end -= 1
    return word[start:end].lower()
