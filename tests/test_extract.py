"""extract_page on hand-written pages, with the real trafilatura: one parse serves both trafilatura and
Redline's own signals, which must be read before trafilatura prunes the tree."""
from __future__ import annotations

from scraper.extract import extract_page

PROSE = "".join(f"<p>The council met on Thursday and debated item {n} of the budget for the coming year.</p>"
                for n in range(8))


def page(head: str = "", before: str = "", after: str = "", prefix: str = "") -> str:
    return (f"{prefix}<html lang='en'><head><title>Budget vote</title>{head}</head><body>"
            f"<nav>{before}</nav><article><h1>Budget vote</h1>{PROSE}</article><footer>{after}</footer></body></html>")


def test_an_xhtml_page_with_an_xml_declaration_is_extracted() -> None:
    extracted = extract_page(page(prefix='<?xml version="1.0" encoding="utf-8"?>\n'), "https://example.com/a")
    assert "item 7 of the budget" in extracted.text


def test_update_stamp_and_links_outside_the_article_are_read_before_trafilatura_prunes_them() -> None:
    teaser = "Storm closes the coastal road for a week"
    html = page(before=f"<span>Updated: December 5, 2024, 10:14 a.m. ET</span><a href='/b'>{teaser}</a>",
                after="<span><!-- build 1234 -->Last updated: <time datetime='2024-12-06T08:00:00Z'>Dec 6</time></span>")
    html = html.replace("</article>", f"<p>Read more: {teaser}</p></article>")
    extracted = extract_page(html, "https://example.com/a")
    assert extracted.updated == "2024-12-06T08:00:00Z" and extracted.updated_signal == "visible"
    assert "Updated:" not in extracted.text and "item 7 of the budget" in extracted.text
    assert extracted.boilerplate == [f"Read more: {teaser}"]  # its link was only in the navigation
    assert extracted.language == "en"


def test_markers_match_whatever_the_case() -> None:
    ld = '<script type="application/ld+json">{"@type": "NewsArticle", "isAccessibleForFree": "False"}</script>'
    assert extract_page(page(head=ld), "https://example.com/a").markers == ["paywall"]
    assert extract_page(page(after="<div>Are You A Robot?</div>"), "https://example.com/a").markers == ["bot-wall"]
    assert extract_page(page(after="<p>We Value Your Privacy</p>"), "https://example.com/a").markers == ["consent"]
    assert extract_page(page(), "https://example.com/a").markers == []


def test_every_marker_phrase_is_searched() -> None:
    phrases = {"paywall": ["Subscribe now to continue reading", "This story is only available to subscribers",
                           '<div class="article paywall-box">x</div>', '"isAccessibleForFree": false'],
               "bot-wall": ["Please complete the CAPTCHA", "Verify you are human", "<title>Access Denied</title>",
                            "<title>Just a moment...</title>", '<div id="cf-chl-widget">x</div>',
                            "We have detected unusual traffic from your computer network", "Are you a robot?",
                            "Complete the security check to access", '<script src="https://ct.captcha-delivery.com/c.js">',
                            '<div id="px-captcha"></div>'],
               "consent": ["We value your privacy", '<div class="consent-wall">x</div>', "Before you continue to Example",
                           '<a href="https://consent.yahoo.com/v2/collectConsent">']}
    for marker, texts in phrases.items():
        for text in texts:
            assert extract_page(page(after=text), "https://example.com/a").markers == [marker], text


def test_dates_are_what_the_page_states_and_a_generated_line_is_a_render_stamp() -> None:
    generated = "<p>Page generated 2026-12-06 17:01:54 UTC</p>"
    bare = extract_page(page(after=generated), "https://example.com/a")
    assert (bare.published, bare.updated, bare.render_stamp) == (None, None, "2026-12-06T17:01:54Z")
    marked = ('<p class="meta">Published: <time class="entry-date published" datetime="2024-12-05T09:12:00Z">'
              'Dec 5</time> <abbr class="updated" title="2024-12-06T08:00:00Z">Dec 6</abbr></p>')
    stated = extract_page(page(before=marked, after=generated), "https://example.com/a")
    assert (stated.published, stated.updated, stated.updated_signal) == (
        "2024-12-05T09:12:00Z", "2024-12-06T08:00:00Z", "microformat")
    labelled = extract_page(page(before="<span>Published: 5 December 2024</span>"), "https://example.com/a")
    assert (labelled.published, labelled.updated) == ("2024-12-05", None)


def test_the_metadata_is_trafilaturas_without_its_date_pass() -> None:
    """page_metadata runs trafilatura's metadata pass minus htmldate: every field Redline keeps must match."""
    from trafilatura.metadata import extract_metadata
    from trafilatura.utils import load_html

    from bench import realpages
    from scraper.extract import page_metadata

    fields = ("title", "author", "url", "sitename", "description")
    for real in realpages.load(limit=60):
        ours, theirs = page_metadata(load_html(real.html)), extract_metadata(load_html(real.html))
        assert [getattr(ours, f) for f in fields] == [getattr(theirs, f) for f in fields], real.name
