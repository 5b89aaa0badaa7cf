"""Words for full-text search: one tokenization for what is indexed and what is asked, on both stores.

A word is a run of letters and digits; case and diacritics are ignored; nothing is stemmed. The index
gets the words already split and joined by spaces, so SQLite's FTS5 (``unicode61``) and PostgreSQL's
``simple`` text search configuration each see plain words and find the same versions for a query.
"""
from __future__ import annotations

import re
import unicodedata

WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The searchable words of a text.

    >>> words("E-scooters: Café «Zürich» paid $8.8 billion_total")
    ['e', 'scooters', 'cafe', 'zurich', 'paid', '8', '8', 'billion', 'total']
    """
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return WORD.findall(plain)


def indexed(*texts: str | None) -> str:
    """What the index stores for a version: the words of its title, byline and text, space-separated.

    >>> indexed("Scooter ban", None, "The city — at last.")
    'scooter ban the city at last'
    """
    return " ".join(w for text in texts if text for w in words(text))
