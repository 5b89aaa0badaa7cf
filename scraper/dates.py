"""The dates a page states about its article: publication, modification, and its render stamp.

Only what the page states is read, never free text: every JSON-LD block and ``@graph`` node
(``datePublished``, ``dateModified``), meta tags (``article:modified_time``, ``og:updated_time``, ...),
``itemprop`` elements, hAtom and microformats classes on ``time``/``abbr`` elements (``published``,
``updated``, ``dt-updated``), ``<time pubdate>``, and short visible lines labelled "Updated: ..." or
"Published: ..." (in the languages of :mod:`archive.text.noise`). Pages often
leave one signal stale while another moves, so the declared update is the latest plausible one
(:func:`archive.text.stamps.latest_plausible`); every candidate is kept for the writer, which may
learn later that one of them is a render stamp.

A line labelled as the page's generation time ("Page generated 2026-12-06 17:01:54 UTC") is a
*render stamp*: it says when the page was rendered for this request, not when the article changed.
It is returned apart and is never a candidate for either date. (htmldate's searches, which read such
a line as the latest date on the page, are not used.)
"""
from __future__ import annotations

import itertools
import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dateutil import parser as dateparser
from lxml import etree
from lxml.html import HtmlElement

from archive.text.stamps import latest_plausible

MODIFIED_META = ("article:modified_time", "og:updated_time", "dateModified", "last-modified", "dcterms.modified",
                 "DC.date.modified")
PUBLISHED_META = ("article:published_time", "datePublished", "dcterms.created", "DC.date.issued", "pubdate",
                  "og:published_time", "dcterms.date", "DC.date", "dc.date", "date", "parsely-pub-date",
                  "sailthru.date")
VISIBLE_UPDATED = re.compile(
    r"^\s*(?:last\s+)?(?:updated|modified|aktualisiert|mis à jour|actualizado|aggiornato|atualizado|bijgewerkt"
    r"|uppdaterad)\s*(?:on|at|am|le|el|il|em|op|den)?\s*:?\s*(.{0,80})$", re.IGNORECASE | re.DOTALL)
VISIBLE_PUBLISHED = re.compile(
    r"^\s*(?:first\s+)?(?:published|posted|veröffentlicht|erschienen|publié|publicado|pubblicato|gepubliceerd"
    r"|publicerad)\s*(?:on|at|am|le|el|il|em|op|den)?\s*:?\s*(.{0,80})$", re.IGNORECASE | re.DOTALL)
# "Page generated 2026-12-06 17:01:54 UTC", "This page was rendered at ...", "Generated on ...", "Seite erstellt am ..."
GENERATED = re.compile(
    r"^\s*(?:(?:this\s+)?page\s+(?:was\s+)?(?:generated|rendered|served|built|cached)"
    r"|generated|rendered|seite\s+(?:generiert|erzeugt)|page\s+générée)"
    r"\s*(?:on|at|am|le)?\s*:?\s*(.{0,80})$", re.IGNORECASE | re.DOTALL)
TZ_OFFSETS = {"UTC": 0, "GMT": 0, "Z": 0, "ET": -18000, "EST": -18000, "EDT": -14400, "CT": -21600,
              "CST": -21600, "CDT": -18000, "PT": -28800, "PST": -28800, "PDT": -25200, "BST": 3600,
              "CET": 3600, "CEST": 7200, "MSK": 10800, "KST": 32400, "JST": 32400, "IST": 19800,
              "WET": 0, "WEST": 3600, "EET": 7200, "EEST": 10800, "SAST": 7200, "EAT": 10800, "HKT": 28800,
              "SGT": 28800, "AEST": 36000, "AEDT": 39600, "NZST": 43200, "NZDT": 46800}
MAX_LINE = 100  # a labelled line longer than this is prose, not a stamp


@dataclass(frozen=True)
class Declared:
    """What a page states about its dates, in ISO 8601: the publication time, the latest plausible update
    time and the signal that gave it, every update candidate as (signal, time), and its render stamp."""

    published: str | None
    updated: str | None
    updated_signal: str | None
    candidates: list[tuple[str, str]] = field(default_factory=list)
    render_stamp: str | None = None


def declared_dates(doc: HtmlElement, now: datetime | None = None) -> Declared:
    """The page's stated publication time, its latest plausible modification time, and its render stamp.

    >>> import lxml.html
    >>> page = lxml.html.fromstring(
    ...     '<html><head><meta property="article:modified_time" content="2024-12-05T10:14:00-05:00">'
    ...     '<script type="application/ld+json">{"datePublished": "2024-12-01", "dateModified": "2024-12-02"}'
    ...     '</script></head><body><p>Words.</p><p>Page generated 2024-12-06 17:01:54 UTC</p></body></html>')
    >>> found = declared_dates(page, datetime(2025, 1, 1, tzinfo=UTC))
    >>> found.published, found.updated, found.updated_signal, found.render_stamp
    ('2024-12-01', '2024-12-05T15:14:00Z', 'article:modified_time', '2024-12-06T17:01:54Z')
    """
    ld, meta = list(_json_ld(doc)), _meta(doc)
    published = (_first(_ld_values(ld, "datePublished"))
                 or _first(iter([v for name in PUBLISHED_META for v in meta.get(name, [])]))
                 or _first(_microformat(doc, "published", "dt-published"))
                 or _first(iter(doc.xpath("//time[@pubdate]/@datetime")))
                 or _first(_labelled(doc, _PUBLISHED_WORD, VISIBLE_PUBLISHED)))
    raw = [("json-ld", v) for v in _ld_values(ld, "dateModified")]
    raw += [(name, v) for name in MODIFIED_META for v in meta.get(name, [])]
    raw += [("visible", v) for v in _visible_updated(doc)]
    if not raw:  # a page's first hAtom "updated" is its own only when nothing else states one (lists carry many)
        raw = [("microformat", v) for v in itertools.islice(_microformat(doc, "updated", "dt-updated"), 1)]
    candidates = [(signal, iso) for signal, value in raw if (iso := to_iso(value))]
    updated = latest_plausible(candidates, published, now or datetime.now(UTC))
    return Declared(published, updated[1] if updated else None, updated[0] if updated else None, candidates,
                    _first(_generated(doc)))


def to_iso(value: str) -> str | None:
    """Normalize a date string: UTC ``...Z`` when it has a time zone, else as written.

    >>> to_iso("2024-12-05T10:14:00-05:00")
    '2024-12-05T15:14:00Z'
    >>> to_iso("Dec 5, 2024, 10:14 a.m. ET")
    '2024-12-05T15:14:00Z'
    >>> to_iso("2024-12-05")
    '2024-12-05'
    >>> to_iso("soon") is None
    True
    """
    text = value.strip().replace("a.m.", "AM").replace("p.m.", "PM")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return text
    try:
        with warnings.catch_warnings():  # an unknown zone name leaves the time naive, as handled below
            warnings.simplefilter("ignore", dateparser.UnknownTimezoneWarning)
            parsed = dateparser.parse(text, fuzzy=True, tzinfos=TZ_OFFSETS)
    except (ValueError, OverflowError):
        return None
    if parsed.year < 1990 or not re.search(r"\d{4}", text):
        return None
    if parsed.tzinfo is None:
        return parsed.strftime("%Y-%m-%dT%H:%M:%S") if re.search(r"\d:\d\d", text) else parsed.strftime("%Y-%m-%d")
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _first(values: Iterator[str]) -> str | None:
    for value in values:
        iso = to_iso(value)
        if iso:
            return iso
    return None


def _json_ld(doc: HtmlElement) -> Iterator[Any]:
    for script in doc.xpath('//script[@type="application/ld+json"]'):
        try:
            yield json.loads(script.text_content()[:200_000])
        except ValueError:
            continue


def _ld_values(node: Any, key: str) -> Iterator[str]:
    """Every ``key`` in a JSON-LD document, its ``@graph`` nodes and nested objects, in document order."""
    if isinstance(node, dict):
        if isinstance(node.get(key), str):
            yield node[key]
        for child in node.values():
            yield from _ld_values(child, key)
    elif isinstance(node, list):
        for child in node:
            yield from _ld_values(child, key)


_DATE_ATTRIBUTES = etree.XPath("//meta[@content][@property or @name or @itemprop] | //*[@itemprop][@datetime]")


def _meta(doc: HtmlElement) -> dict[str, list[str]]:
    """Values of meta tags and ``itemprop`` elements, by property, name or itemprop, in document order."""
    found: dict[str, list[str]] = {}
    for element in _DATE_ATTRIBUTES(doc):
        for attribute in ("property", "name", "itemprop"):
            name = element.get(attribute)
            if name:
                found.setdefault(name, []).append(element.get("content") or element.get("datetime") or "")
                break
    return found


_MARKED = etree.XPath("//time[@datetime][@class] | //abbr[@title][@class]")


def _microformat(doc: HtmlElement, *classes: str) -> Iterator[str]:
    """The machine-readable time of ``time`` and ``abbr`` elements carrying one of ``classes`` (hAtom's
    ``published``/``updated``, microformats2's ``dt-published``/``dt-updated``), in document order."""
    wanted = set(classes)
    for element in _MARKED(doc):
        if wanted & set(element.get("class", "").split()):
            yield element.get("datetime") or element.get("title") or ""


_UPDATED_WORD = re.compile(r"\s*(?:last\s+)?(?:updated|modified|aktualisiert|mis à jour|actualizado|aggiornato"
                           r"|atualizado|bijgewerkt|uppdaterad)", re.IGNORECASE)


_PUBLISHED_WORD = re.compile(r"\s*(?:first\s+)?(?:published|posted|veröffentlicht|erschienen|publié|publicado"
                             r"|pubblicato|gepubliceerd|publicerad)", re.IGNORECASE)


def _labelled(doc: HtmlElement, first_word: re.Pattern[str], line: re.Pattern[str]) -> Iterator[str]:
    """Dates in short visible lines whose text starts with a label, found by their first text rather than
    by reading every element's whole text (which is quadratic in the page's nesting)."""
    body = doc.find("body")
    for element in body.iter() if body is not None else ():
        if not (isinstance(element.text, str) and first_word.match(element.text)):
            continue
        text = " ".join(element.text_content().split())
        match = line.match(text) if len(text) <= MAX_LINE else None
        if not match:
            continue
        yield from element.xpath(".//time/@datetime | following-sibling::time[1]/@datetime")
        if match.group(1):
            yield match.group(1)


def _visible_updated(doc: HtmlElement) -> Iterator[str]:
    return _labelled(doc, _UPDATED_WORD, VISIBLE_UPDATED)


def _generated(doc: HtmlElement) -> Iterator[str]:
    return _labelled(doc, GENERATED, GENERATED)
