"""Summaries of what a maintenance command did."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from archive.vocab import RecordKind


@dataclass
class ReextractSummary:
    """What re-running the extractor over stored captures did."""

    checked: int
    unchanged: int
    drift: int
    failed: int


def reextract_summary(kinds: Iterable[str]) -> ReextractSummary:
    """Counts from the record kinds of a re-extraction.

    >>> reextract_summary(["unchanged", "drift", "unchanged"])
    ReextractSummary(checked=3, unchanged=2, drift=1, failed=0)
    """
    counts = Counter(kinds)
    return ReextractSummary(sum(counts.values()), counts[RecordKind.UNCHANGED], counts[RecordKind.DRIFT],
                            counts[RecordKind.EXTRACT_FAILED])
