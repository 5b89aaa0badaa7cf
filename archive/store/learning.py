"""The evidence template learning needs before a paragraph becomes site template noise."""
from __future__ import annotations

# A paragraph is learned as site template noise only when it changed, identically, in at least
# TEMPLATE_MIN_ARTICLES distinct articles of one site in one batch, and in a large share of the distinct
# articles of that site the batch saw: half of them when the page marks it as boilerplate (link-dense),
# four in five otherwise. Articles whose paragraphs mostly coincide (one story at several URLs, near
# copies) are one witness. Editorial notices are never learned.
TEMPLATE_MIN_ARTICLES = 5
TEMPLATE_SHARE_WITH_EVIDENCE = 0.5
TEMPLATE_SHARE_BARE = 0.8
SAME_STORY = 0.5  # Jaccard similarity of two articles' paragraph sets above which they are one witness


def witnesses(bodies: list[set[str]]) -> list[int]:
    """A witness number per article: articles whose paragraph sets mostly coincide share one.

    >>> witnesses([{"a", "b", "c"}, {"a", "b", "c", "x"}, {"d", "e"}])
    [0, 0, 2]
    """
    witness = list(range(len(bodies)))
    for i, body in enumerate(bodies):
        for j in range(i):
            union = body | bodies[j]
            if union and len(body & bodies[j]) / len(union) >= SAME_STORY:
                witness[i] = witness[j]
                break
    return witness
