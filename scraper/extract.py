"""Article extraction: the only module that imports trafilatura.

:func:`extract_page` runs in a worker process (see :mod:`scraper.pool`), so it
takes and returns plain picklable data.
"""
from __future__ import annotations

import re

import lxml.html
import trafilatura
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document, Extractor
from trafilatura.utils import load_html

from archive.capture import Extracted
from archive.text.noise import TEASER_LABEL_RE
from archive.text.normalize import paragraphs
from scraper.dates import declared_dates
from scraper.shell import app_shell

EXTRACTOR = f"trafilatura {trafilatura.__version__}"
# Comments are not the article; tables often are. The metadata is read by page_metadata, without the
# date search trafilatura's own pass runs (scraper.dates reads the dates the page states).
OPTIONS = Extractor(output_format="python", with_metadata=False, comments=False, tables=True, dedup=False)

# Searched in the lower-cased first 500 KB: case-sensitive patterns on a lowered copy are about
# 20x faster than IGNORECASE ones on the page (11 ms of a real page's 52 ms went here), and one pattern
# per phrase, each starting with a literal that re scans for, 2x faster than one alternation per marker
# (1.2 ms against 2.6 ms a real page, the same markers on all 172 bench pages).
MARKERS = {name: tuple(re.compile(phrase) for phrase in phrases) for name, phrases in {
    "paywall": (r"subscribe (?:now )?to (?:continue|keep) reading",
                r"this (?:article|content|story) is (?:only )?(?:available|reserved) (?:to|for) (?:subscribers|members)",
                r"class=\"[^\"]*paywall", r"\"isaccessibleforfree\"\s*:\s*\"?false"),
    # Conservative: each of these was searched for in the suite's 175 cached real article pages and fires on
    # none (a bare "captcha" fired on 29: comment forms; "cookie consent" on 4: banners beside the article).
    "bot-wall": (r"<title>just a moment\.\.\.", r"cf-chl-", r"are you a robot", r"verify you are (?:a )?human",
                 r"<title>access denied", r"complete the (?:captcha|security check)", r"captcha-delivery\.com",
                 r"px-captcha", r"unusual traffic from your (?:computer )?network"),
    "consent": (r"we value your privacy", r"consent-wall", r"before you continue to", r"consent\.yahoo\.com"),
}.items()}
MARKER_BYTES = 500_000
MAX_TEASER_WORDS = 40
MIN_LINK_CHARS = 12
MIN_PROSE_WORDS = 3  # a teaser span is masked inside a paragraph only when prose remains around it
MIN_TEASER_LINK_CHARS = 4  # after a teaser label, a link this long is the teaser's headline


def extract_page(html: str, url: str) -> Extracted:
    """Extract text and metadata; never raises for a bad page, returns empty text instead."""
    lowered = html[:MARKER_BYTES].lower()
    markers = [name for name, patterns in MARKERS.items() if any(p.search(lowered) for p in patterns)]
    doc = load_html(html)  # parsed once: our signals read it first, then trafilatura (which prunes it)
    if doc is None:
        return Extracted(text="", extractor=EXTRACTOR, markers=markers,
                         why_empty="extractor error: the HTML could not be parsed")
    declared = declared_dates(doc)
    links = link_texts(doc)
    lang = _html_lang(doc)
    meta = page_metadata(doc)
    shell = app_shell(doc)
    why_empty = None
    if shell:
        why_empty = (f"script-rendered page: {shell}, and the HTML as served holds little or no article text; a "
                     "script writes the article in the reader's browser")
    result = trafilatura.bare_extraction(doc, url=url, options=OPTIONS)  # on its own copy of the tree
    if result is None or not result.text:
        return Extracted(text="", extractor=EXTRACTOR, markers=markers, why_empty=why_empty)
    text = result.text
    return Extracted(
        text=text, title=meta.title, byline=meta.author, published=declared.published,
        updated=declared.updated, updated_signal=declared.updated_signal, site_name=meta.sitename,
        language=result.language or lang, canonical_url=meta.url, description=meta.description,
        extractor=EXTRACTOR, boilerplate=link_paragraphs(text, links), noise_spans=teaser_spans(text, links),
        markers=markers, dates=declared.candidates, render_stamp=declared.render_stamp,
        why_empty=why_empty)


def page_metadata(doc: lxml.html.HtmlElement) -> Document:
    """trafilatura's metadata pass (``trafilatura.metadata.extract_metadata``) for the fields Redline keeps
    (title, author, URL, site name, description), without its date search: htmldate's free-text pass read
    per-request "Page generated" lines as the article's date, and cost a second date pass per page."""
    meta = examine_meta(doc)
    if meta.author and " " not in meta.author:
        meta.author = None
    try:
        meta = extract_meta_json(doc, meta)
    except Exception:  # noqa: BLE001 (trafilatura's own pass catches every error of its JSON-LD reader too)
        pass
    meta.title = meta.title or extract_title(doc)
    meta.author = meta.author or extract_author(doc)
    meta.url = meta.url or extract_url(doc)  # the page's own URL only, as trafilatura's pass with OPTIONS
    meta.sitename = meta.sitename or extract_sitename(doc)
    if meta.sitename:
        meta.sitename = meta.sitename.lstrip("@")
        if meta.sitename and "." not in meta.sitename and not meta.sitename[0].isupper():
            meta.sitename = meta.sitename.title()
    elif meta.url and (match := META_URL.match(meta.url)):
        meta.sitename = match[1]
    meta.clean_and_trim()
    return meta


def link_texts(doc: lxml.html.HtmlElement) -> set[str]:
    """The text of every link on the page."""
    return {" ".join(a.text_content().split()) for a in doc.iter("a")}


def teaser_spans(text: str, links: set[str]) -> list[str]:
    """Teasers inside longer paragraphs: a teaser label followed by a linked headline, as an exact span.

    >>> teaser_spans("Prices rose. Read more: Storm hits the coast The mayor spoke.", {"Storm hits the coast"})
    ['Read more: Storm hits the coast']
    >>> teaser_spans("Read more about the storm on our live page.", {"the storm on our live page"})
    []
    """
    found = []
    for para in paragraphs(text):
        for label in TEASER_LABEL_RE.finditer(para):
            rest = para[label.end():]
            headline = max((t for t in links if len(t) >= MIN_TEASER_LINK_CHARS and rest.startswith(t)), key=len,
                           default=None)
            if headline:
                span = para[label.start():label.end() + len(headline)]
                if len(para.replace(span, " ").split()) >= MIN_PROSE_WORDS:
                    found.append(span)
    return found


def link_paragraphs(text: str, links: set[str]) -> list[str]:
    """Short paragraphs made mostly of link text: in-body teasers and "related" boxes."""
    found = []
    for para in paragraphs(text):
        if len(para.split()) > MAX_TEASER_WORDS:
            continue
        covered = sum(len(t) for t in links if len(t) >= MIN_LINK_CHARS and t in para)
        if covered >= 0.5 * len(para):
            found.append(para)
    return found


def _html_lang(doc: lxml.html.HtmlElement) -> str | None:
    lang = doc.get("lang")
    return lang.split("-")[0].lower() if lang else None
