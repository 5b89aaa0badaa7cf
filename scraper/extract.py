"""Article extraction: the only module that imports trafilatura.

:func:`extract_page` runs in a worker process (see :mod:`scraper.pool`), so it
takes and returns plain picklable data.
"""
from __future__ import annotations

import re

import lxml.html
import trafilatura
from trafilatura.settings import Extractor

from archive.capture import Extracted
from archive.normalize import paragraphs
from scraper.dates import declared_dates, to_iso

EXTRACTOR = f"trafilatura {trafilatura.__version__}"
# Comments are not the article; tables often are. Metadata costs ~1.5x but is what we archive.
OPTIONS = Extractor(output_format="python", with_metadata=True, comments=False, tables=True, dedup=False)

MARKERS = {
    "paywall": re.compile(r"subscribe (?:now )?to (?:continue|keep) reading|this (?:article|content|story) is "
                          r"(?:only )?(?:available|reserved) (?:to|for) (?:subscribers|members)|class=\"[^\"]*paywall"
                          r"|\"isAccessibleForFree\"\s*:\s*\"?false", re.IGNORECASE),
    "bot-wall": re.compile(r"captcha|are you a robot|verify you are (?:a )?human|access denied|just a moment\.\.\."
                           r"|cf-chl-|unusual traffic", re.IGNORECASE),
    "consent": re.compile(r"we value your privacy|cookie consent|consent-wall|before you continue to", re.IGNORECASE),
}
MAX_TEASER_WORDS = 40
MIN_LINK_CHARS = 12


def extract_page(html: str, url: str) -> Extracted:
    """Extract text and metadata; never raises for a bad page, returns empty text instead."""
    markers = [name for name, pattern in MARKERS.items() if pattern.search(html[:500_000])]
    try:
        doc = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return Extracted(text="", extractor=EXTRACTOR, markers=markers)
    result = trafilatura.bare_extraction(html, url=url, options=OPTIONS)
    if result is None or not result.text:
        return Extracted(text="", extractor=EXTRACTOR, markers=markers)
    published, updated = declared_dates(doc)
    text = result.text
    return Extracted(
        text=text, title=result.title, byline=result.author, published=published or _iso(result.date),
        updated=updated, site_name=result.sitename, language=result.language or _html_lang(doc),
        canonical_url=result.url, description=result.description, extractor=EXTRACTOR,
        boilerplate=link_paragraphs(text, doc), markers=markers)


def link_paragraphs(text: str, doc: lxml.html.HtmlElement) -> list[str]:
    """Short paragraphs made mostly of link text: in-body teasers and "related" boxes."""
    links = {" ".join(a.text_content().split()) for a in doc.iter("a")}
    links = {t for t in links if len(t) >= MIN_LINK_CHARS}
    found = []
    for para in paragraphs(text):
        if len(para.split()) > MAX_TEASER_WORDS:
            continue
        covered = sum(len(t) for t in links if t in para)
        if covered >= 0.5 * len(para):
            found.append(para)
    return found


def _iso(value: str | None) -> str | None:
    return to_iso(value) if value else None


def _html_lang(doc: lxml.html.HtmlElement) -> str | None:
    lang = doc.get("lang")
    return lang.split("-")[0].lower() if lang else None
