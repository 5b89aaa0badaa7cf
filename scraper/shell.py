"""The marks of a script-rendered app shell (lxml only: the crawl process reads them, and must never import
trafilatura, which only the extraction workers load)."""
from __future__ import annotations

import re

import lxml.etree
import lxml.html

# The marks of a script-rendered app, where frameworks put them (children of <body>, or of <head> for a
# <noscript>; searching the whole tree cost 5 ms a real page): the empty element a framework mounts its app on
# (React's #root, Vue's #app, Next.js, Nuxt, Gatsby, Angular's <app-root>), or a <noscript> asking for JavaScript.
APP_ROOTS = {"root", "app", "__next", "__nuxt", "___gatsby"}
# (a <noscript> about comments, Disqus's, asks for them on 2 of the cached real pages: it is not the article)
ASKS_FOR_SCRIPTS = re.compile(r"\b(?:enable|turn on|activate|requires?|needs?)\b.{0,40}\bjavascript\b(?!.*\bcomment)",
                              re.IGNORECASE)
# A cheap first look before parsing, for needs_browser: where none of these is, app_shell finds nothing.
SHELL_HINT = re.compile(r"id=[\"']?(?:root|app|__next|__nuxt|___gatsby)\b|<app-root|<noscript")
SHELL_MAX_WORDS = 25  # an article needs this many words (archive.store.outcomes.MIN_WORDS)
SHELL_HINT_BYTES = 500_000  # as scraper.extract.MARKER_BYTES


def app_shell(doc: lxml.html.HtmlElement) -> str | None:
    """The mark of a script-rendered app the page carries, in words, or None.

    >>> app_shell(lxml.html.fromstring("<html><body><div id='root'></div><script src='/a.js'></script></body></html>"))
    'its HTML is an app shell (an empty <div id="root">)'
    >>> app_shell(lxml.html.fromstring("<html><body><noscript>Please enable JavaScript.</noscript></body></html>"))
    'it asks for JavaScript (<noscript>Please enable JavaScript.</noscript>)'
    >>> app_shell(lxml.html.fromstring("<html><body><div id='root'><p>The story.</p></div></body></html>")) is None
    True
    """
    for child in doc.xpath("/html/body/*"):
        if (child.get("id") in APP_ROOTS or child.tag == "app-root") and not child.text_content().strip():
            ident = f' id="{child.get("id")}"' if child.get("id") else ""
            return f"its HTML is an app shell (an empty <{child.tag}{ident}>)"
    for note in doc.xpath("/html/*/noscript"):
        said = " ".join(note.text_content().split())
        if ASKS_FOR_SCRIPTS.search(said):
            return f"it asks for JavaScript (<noscript>{said[:80]}</noscript>)"
    return None


def needs_browser(html: str) -> str | None:
    """The app shell's mark (:func:`app_shell`) when the HTML as served is one and holds under 25 words of
    visible text outside it, or None: such a page is fetched again through a browser (``--render auto``).
    Run on the reactor, before extraction, so it reads the visible text rather than trafilatura's.

    >>> needs_browser("<html><body><div id='root'></div><script>draw()</script></body></html>")
    'its HTML is an app shell (an empty <div id="root">)'
    >>> needs_browser("<html><body><div id='app'></div><p>" + "word " * 30 + "</p></body></html>") is None
    True
    """
    if not SHELL_HINT.search(html[:SHELL_HINT_BYTES].lower()):
        return None
    try:
        doc = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):  # empty, or an encoding declaration in a str
        return None
    shell = app_shell(doc)
    if shell is None:
        return None
    seen = doc.xpath("//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript "
                     "or ancestor::template)]")
    return shell if len(" ".join(seen).split()) < SHELL_MAX_WORDS else None
