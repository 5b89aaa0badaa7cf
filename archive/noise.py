"""Which paragraphs are noise: text that changes between fetches without an edit.

Noise paragraphs stay in the stored text (it is evidence of what the page
said) but never decide whether a new version exists.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

_UNIT = r"(?:second|sec|minute|min|hour|hr|day|week|month|year)s?"
NOISE_PATTERNS = [
    # relative and per-request timestamps
    rf"^(?:(?:published|updated|posted|edited|last updated)\s*:?\s*)?(?:\d+|an?|one)\s+{_UNIT}\s+ago\.?$",
    r"^(?:published|updated|posted)?\s*:?\s*(?:just now|moments ago|today|yesterday)\.?$",
    r"^(?:page|this page was)\s+(?:generated|rendered|served|cached)\b.*$",
    r"^(?:as of|last refreshed|refreshed)\s*:?.{0,60}\d{1,2}:\d{2}.*$",
    # visible publication and update stamps: their value is kept as published/updated
    r"^(?:(?:last\s+)?updated|published|first published|posted|modified)\s*(?:on|at)?\s*:?\s*"
    r"(?=[^\n]{0,80}$)(?=.*\d).*$",
    # view, comment and share counters
    r"^[\d.,]+\s*[km]?\s*(?:views?|comments?|shares?|reads?|likes?|reactions?)\.?$",
    r"^(?:views?|comments?|shares?|reads?)\s*:?\s*\(?[\d.,]+\s*[km]?\)?$",
    r"^(?:share|comment|comments)\s*\(\d+\)$",
    # in-body teasers: a label, then a linked headline that rotates
    r"^(?:related(?: articles?| stories| story| content| coverage| reading)?|read more|read also|also read"
    r"|see also|more on [^:]{1,60}|more from [^:]{1,60}|recommended(?: for you)?|you may also like"
    r"|don'?t miss|must read|trending|most read|popular now|watch|listen)\s*[:>»|-](?:\s.*)?$",
]
NOISE_RE = re.compile("|".join(f"(?:{p})" for p in NOISE_PATTERNS), re.IGNORECASE)


def is_noise(paragraph: str, site_patterns: Iterable[re.Pattern[str]] = ()) -> bool:
    """True when a (comparable) paragraph is noise by default rules or a site's own patterns.

    >>> is_noise("Published 17 minutes ago")
    True
    >>> is_noise("Related article: Putin Pulls From Stalin's Playbook")
    True
    >>> is_noise("More on North Korea:")
    True
    >>> is_noise("Updated: Dec 5, 2024, 10:14 a.m. ET")
    True
    >>> is_noise("12,345 views")
    True
    >>> is_noise("The treaty was ratified 17 minutes after midnight.")
    False
    """
    if len(paragraph) > 400:
        return False
    if NOISE_RE.match(paragraph):
        return True
    return any(p.search(paragraph) for p in site_patterns)


def compile_patterns(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    """Compile user-supplied ignore patterns case-insensitively."""
    return [re.compile(p, re.IGNORECASE) for p in patterns]
