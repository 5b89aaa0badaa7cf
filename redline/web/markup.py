"""Jinja2 filters for hostile text: links only to http(s), invisible characters made visible."""
from __future__ import annotations

import unicodedata
from datetime import datetime
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from archive.queries import iso

REL = "noopener noreferrer nofollow"


def visible(text: str | None) -> str:
    """Control and format characters (bidi overrides, zero-width spaces) shown as ``<U+XXXX>``, for URLs
    and hosts, where an invisible character could make one address pass for another.

    >>> visible("https://exa\\u202emple.com/\\u200b")
    'https://exa<U+202E>mple.com/<U+200B>'
    """
    return "".join(f"<U+{ord(c):04X}>" if unicodedata.category(c) in ("Cc", "Cf") else c for c in text or "")


def link(url: str | None, text: str | None = None) -> Markup:
    """An http(s) URL as a link that passes no referrer and no opener; any other scheme as plain text.

    >>> str(link("javascript:alert(1)"))
    '<code>javascript:alert(1)</code>'
    >>> str(link('https://e.example/"><b>'))
    '<a href="https://e.example/&#34;&gt;&lt;b&gt;" rel="noopener noreferrer nofollow"><code>https://e.example/&#34;&gt;&lt;b&gt;</code></a>'
    """
    if not url:
        return Markup("")
    shown = Markup("<code>%s</code>") % visible(url) if text is None else escape(text)
    try:
        scheme = urlsplit(url).scheme.lower() if url.isprintable() else ""
    except ValueError:  # a malformed address (an unclosed IPv6 bracket) is shown, never linked
        scheme = ""
    if scheme in ("http", "https"):
        return Markup('<a href="%s" rel="%s">%s</a>') % (url, REL, shown)
    return shown


def when(value: datetime | None) -> str:
    """A time as the JSON gives it (ISO 8601 UTC), or a dash."""
    return iso(value) or "-"
