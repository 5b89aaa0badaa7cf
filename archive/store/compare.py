"""How the writer compares two texts: each side's significant paragraphs under one noise mask, and the
changed paragraphs a rule skipped (the evidence ``log --all`` shows)."""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from archive.capture import Extracted
from archive.queries.reading import SiteNoise
from archive.schema import models as m
from archive.text.classify import State
from archive.text.normalize import comparable
from archive.text.stamps import RETIRED_SIGNALS


def compared_state(noise: SiteNoise, source: Extracted | m.Version, paras: list[str], hashes: Sequence[str],
           boilerplate: set[str], language: str | None = None) -> tuple[State, list[str | None]]:
    """The compared state of a text (its significant paragraphs), and the rule that skipped each paragraph."""
    skips = noise.skipped_by(paras, hashes, boilerplate, language or source.language)
    kept = tuple(p for p, rule in zip(paras, skips) if rule is None)
    return State(comparable(source.title or ""), comparable(source.byline or ""), source.updated, kept,
                 source.updated_signal not in RETIRED_SIGNALS), skips


@dataclass
class Side:
    """One side of a comparison: a text's metadata and its paragraphs as compared."""

    source: Extracted | m.Version
    paras: list[str]
    hashes: Sequence[str]
    boilerplate: set[str]
    spans: list[str]


def compare(noise: SiteNoise, old: Side, new: Side) -> tuple[State, State, list[dict[str, str]]]:
    """Both sides' compared states under one mask, and the changed paragraphs a rule skipped."""
    boilerplate = old.boilerplate | new.boilerplate  # a paragraph on both sides is masked on both or neither
    language = new.source.language or old.source.language
    old_state, old_skips = compared_state(noise, old.source, old.paras, old.hashes, boilerplate, language)
    new_state, new_skips = compared_state(noise, new.source, new.paras, new.hashes, boilerplate, language)
    evidence = skipped_evidence(old.paras, old.hashes, old_skips, new.paras, new.hashes, new_skips)
    return old_state, new_state, evidence + span_evidence(old.spans, new.spans)


def skipped_evidence(old: list[str], old_hashes: Sequence[str], old_skips: list[str | None],
              new: list[str], new_hashes: Sequence[str], new_skips: list[str | None]) -> list[dict[str, str]]:
    """The changed paragraphs that a noise rule skipped, each with its rule.

    >>> skipped_evidence(["A", "3 hours ago"], ["a", "t3"], [None, "relative-time"],
    ...           ["A", "4 hours ago"], ["a", "t4"], [None, "relative-time"])
    [{'change': 'removed', 'text': '3 hours ago', 'rule': 'relative-time'}, {'change': 'added', 'text': '4 hours ago', 'rule': 'relative-time'}]
    """
    found = []
    for op, i1, i2, j1, j2 in SequenceMatcher(a=old_hashes, b=new_hashes, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        found += [{"change": "removed", "text": old[i], "rule": old_skips[i]} for i in range(i1, i2) if old_skips[i]]
        found += [{"change": "added", "text": new[j], "rule": new_skips[j]} for j in range(j1, j2) if new_skips[j]]
    return found  # type: ignore[return-value]


def span_evidence(old: list[str], new: list[str]) -> list[dict[str, str]]:
    """Teasers and stamps inside longer paragraphs that appeared or went away."""
    return ([{"change": "removed", "text": s, "rule": "in-paragraph"} for s in old if s not in new]
            + [{"change": "added", "text": s, "rule": "in-paragraph"} for s in new if s not in old])


def state_fingerprint(state: State) -> str:
    blob = "\x1f".join([state.title, state.byline, *state.paragraphs])
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
