"""Declared publication and modification dates from an article page.

trafilatura's ``date`` is the original publication date; the declared update
comes from JSON-LD ``dateModified``, ``article:modified_time`` and similar
meta tags, or a visible "Updated:" line.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from dateutil import parser as dateparser
from lxml.html import HtmlElement

MODIFIED_META = ("article:modified_time", "og:updated_time", "dateModified", "last-modified", "dcterms.modified",
                 "DC.date.modified")
PUBLISHED_META = ("article:published_time", "datePublished", "dcterms.created", "DC.date.issued", "pubdate")
VISIBLE_UPDATED = re.compile(r"^\s*(?:last\s+)?(?:updated|modified)\s*(?:on|at)?\s*:?\s*(.{0,80})$",
                             re.IGNORECASE | re.DOTALL)
TZ_OFFSETS = {"UTC": 0, "GMT": 0, "Z": 0, "ET": -18000, "EST": -18000, "EDT": -14400, "CT": -21600,
              "CST": -21600, "CDT": -18000, "PT": -28800, "PST": -28800, "PDT": -25200, "BST": 3600,
              "CET": 3600, "CEST": 7200, "MSK": 10800, "KST": 32400, "JST": 32400, "IST": 19800}


def declared_dates(doc: HtmlElement) -> tuple[str | None, str | None]:
    """(published, updated) as declared by the page, in ISO 8601."""
    ld = list(_json_ld(doc))
    published = _first(_ld_values(ld, "datePublished")) or _first(_meta(doc, PUBLISHED_META))
    updated = (_first(_ld_values(ld, "dateModified")) or _first(_meta(doc, MODIFIED_META))
               or _first(_visible_updated(doc)))
    return published, updated


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
    if isinstance(node, dict):
        if isinstance(node.get(key), str):
            yield node[key]
        for child in node.values():
            yield from _ld_values(child, key)
    elif isinstance(node, list):
        for child in node:
            yield from _ld_values(child, key)


def _meta(doc: HtmlElement, names: tuple[str, ...]) -> Iterator[str]:
    for name in names:
        for value in doc.xpath("//meta[@property=$n or @name=$n or @itemprop=$n]/@content", n=name):
            yield value
        for value in doc.xpath("//*[@itemprop=$n]/@datetime", n=name):
            yield value


def _visible_updated(doc: HtmlElement) -> Iterator[str]:
    for node in doc.xpath("//body//*[self::p or self::span or self::div or self::time or self::small or self::li]"):
        text = " ".join(node.text_content().split())
        if len(text) > 100:
            continue
        match = VISIBLE_UPDATED.match(text)
        if not match:
            continue
        times = node.xpath(".//time/@datetime | following-sibling::time[1]/@datetime")
        yield from times
        if match.group(1):
            yield match.group(1)
