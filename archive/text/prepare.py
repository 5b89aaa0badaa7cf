"""The text work on one extraction that needs no database: normalization, teaser and stamp spans,
paragraph digests. Pure and picklable, so the extraction workers run it next to the extractor
(scraper/pool.py) and the writer only reads the result; the same function runs in the writer when
an extraction comes without it (re-extraction, renoise), so the result is the same either way."""
from __future__ import annotations

from archive.capture import Extracted, Prepared
from archive.text.noise import stamp_spans, strip_spans
from archive.text.normalize import clean_text, comparable, digest, paragraphs


def prepare(extracted: Extracted) -> Prepared:
    """The normalized text, its masked spans, comparable paragraphs and their digests."""
    text = clean_text(extracted.text)
    whole = [comparable(p) for p in paragraphs(text)]
    found = [comparable(span) for span in extracted.noise_spans] + [s for p in whole for s in stamp_spans(p)]
    spans = list(dict.fromkeys(found))
    paras = [strip_spans(p, spans) for p in whole]
    return Prepared(text, spans, paras, [digest(p) for p in paras],
                    {digest(comparable(b)) for b in extracted.boilerplate})
