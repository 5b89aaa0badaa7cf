"""Declared publication and modification dates from an article page.

trafilatura's ``date`` is the original publication date. The declared update is
read from every signal a page carries, because pages often leave one stale
while another moves: every JSON-LD block and ``@graph`` node (``dateModified``),
``article:modified_time``, ``og:updated_time`` and similar meta tags,
``itemprop="dateModified"`` elements, visible "Updated:" lines, and htmldate's
latest-date heuristics. The declared update is the latest plausible one: not
after the fetch (beyond a small clock skew) and not before the publication date.
"""
from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dateutil import parser as dateparser
from lxml import etree
from lxml.html import HtmlElement

MODIFIED_META = ("article:modified_time", "og:updated_time", "dateModified", "last-modified", "dcterms.modified",
                 "DC.date.modified")
PUBLISHED_META = ("article:published_time", "datePublished", "dcterms.created", "DC.date.issued", "pubdate")
VISIBLE_UPDATED = re.compile(
    r"^\s*(?:last\s+)?(?:updated|modified|aktualisiert|mis à jour|actualizado|aggiornato|atualizado|bijgewerkt"
    r"|uppdaterad)\s*(?:on|at|am|le|el|il|em|op|den)?\s*:?\s*(.{0,80})$", re.IGNORECASE | re.DOTALL)
TZ_OFFSETS = {"UTC": 0, "GMT": 0, "Z": 0, "ET": -18000, "EST": -18000, "EDT": -14400, "CT": -21600,
              "CST": -21600, "CDT": -18000, "PT": -28800, "PST": -28800, "PDT": -25200, "BST": 3600,
              "CET": 3600, "CEST": 7200, "MSK": 10800, "KST": 32400, "JST": 32400, "IST": 19800,
              "WET": 0, "WEST": 3600, "EET": 7200, "EEST": 10800, "SAST": 7200, "EAT": 10800, "HKT": 28800,
              "SGT": 28800, "AEST": 36000, "AEDT": 39600, "NZST": 43200, "NZDT": 46800}
# A page's clock, or a date written in local time without a zone, may run ahead of ours by this much.
FUTURE_SKEW = timedelta(hours=14)


@dataclass(frozen=True)
class Declared:
    """What a page declares about its own dates, in ISO 8601, and which signal gave the update time."""

    published: str | None
    updated: str | None
    updated_signal: str | None


def declared_dates(doc: HtmlElement, now: datetime | None = None, markup_heuristics: bool = True) -> Declared:
    """The page's declared publication time and its latest plausible modification time.

    >>> import lxml.html
    >>> page = lxml.html.fromstring(
    ...     '<html><head><meta property="article:modified_time" content="2024-12-05T10:14:00-05:00">'
    ...     '<script type="application/ld+json">{"datePublished": "2024-12-01", "dateModified": "2024-12-02"}'
    ...     '</script></head><body><p>Words.</p></body></html>')
    >>> declared_dates(page, datetime(2025, 1, 1, tzinfo=UTC))
    Declared(published='2024-12-01', updated='2024-12-05T15:14:00Z', updated_signal='article:modified_time')
    """
    ld, meta = list(_json_ld(doc)), _meta(doc)
    published = (_first(_ld_values(ld, "datePublished"))
                 or _first(iter([v for name in PUBLISHED_META for v in meta.get(name, [])])))
    candidates = [("json-ld", v) for v in _ld_values(ld, "dateModified")]
    candidates += [(name, v) for name in MODIFIED_META for v in meta.get(name, [])]
    candidates += [("visible", v) for v in _visible_updated(doc)]
    if markup_heuristics:  # htmldate falls back to the publication date: only a later day is an update
        candidates += [("htmldate", v) for v in _htmldate(doc) if not published or v[:10] > published[:10]]
    updated = latest_plausible(candidates, published, now or datetime.now(UTC))
    return Declared(published, updated[1] if updated else None, updated[0] if updated else None)


def latest_plausible(candidates: list[tuple[str, str]], published: str | None,
                     now: datetime) -> tuple[str, str] | None:
    """(signal, ISO time) of the latest candidate that is neither in the future nor before publication;
    on a tie the more precise value (with a time of day), then the earlier-listed signal, wins.

    >>> now = datetime(2025, 1, 1, tzinfo=UTC)
    >>> latest_plausible([("json-ld", "2024-12-02"), ("visible", "Dec 3, 2024 09:00 GMT")], None, now)
    ('visible', '2024-12-03T09:00:00Z')
    >>> latest_plausible([("json-ld", "2030-01-01"), ("meta", "2024-12-02")], None, now)
    ('meta', '2024-12-02')
    >>> latest_plausible([("json-ld", "2024-11-02")], "2024-12-01", now) is None
    True
    """
    floor = _instant(published) if published else None
    best: tuple[datetime, bool, int, str, str] | None = None
    for order, (signal, raw) in enumerate(candidates):
        iso = to_iso(raw)
        if iso is None:
            continue
        when = _instant(iso)
        if when > now + FUTURE_SKEW or (floor is not None and when < floor.replace(hour=0, minute=0, second=0)):
            continue
        key = (when, "T" in iso, -order, signal, iso)
        if best is None or key > best:
            best = key
    return (best[3], best[4]) if best else None


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


def _instant(iso: str) -> datetime:
    """An ISO value from :func:`to_iso` as an aware datetime (UTC when it names no zone)."""
    parsed = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


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


_UPDATED_WORD = re.compile(r"\s*(?:last\s+)?(?:updated|modified|aktualisiert|mis à jour|actualizado|aggiornato"
                           r"|atualizado|bijgewerkt|uppdaterad)", re.IGNORECASE)


def _visible_updated(doc: HtmlElement) -> Iterator[str]:
    """Dates in short visible "Updated: ..." lines, found by their first text rather than by reading
    every element's whole text (which is quadratic in the page's nesting)."""
    body = doc.find("body")
    for element in body.iter() if body is not None else ():
        if not (isinstance(element.text, str) and _UPDATED_WORD.match(element.text)):
            continue
        text = " ".join(element.text_content().split())
        match = VISIBLE_UPDATED.match(text) if len(text) <= 100 else None
        if not match:
            continue
        yield from element.xpath(".//time/@datetime | following-sibling::time[1]/@datetime")
        if match.group(1):
            yield match.group(1)


def _htmldate(doc: HtmlElement) -> Iterator[str]:
    """htmldate's latest date from the page's markup (no free-text search, which picks up
    today's date from a page header and would make every fetch a declared update)."""
    from htmldate import find_date

    found = find_date(doc, extensive_search=False, original_date=False, outputformat="%Y-%m-%dT%H:%M:%S%z")
    if found:
        yield found.removesuffix("T00:00:00")  # a bare date, not midnight
