"""Noise rules never hide real edits: what each default rule could wrongly swallow, checked in real prose,
and the crawl-level guarantees (corrections on many pages, one story at many URLs, noise-only fetches
on record, renoise, forgetting a learned template, declared updates from any date signal)."""
from __future__ import annotations

import json
import re
from copy import deepcopy as clone
from datetime import datetime

import pytest

from archive.text.noise import noise_rule
from archive.text.notices import is_editorial_notice
from redline.fakesite import FakeSite, Route, load_stories, render
from tests.conftest import FAST, crawl, invoke, invoke_json, run_redline

# Sentences from news prose that begin like a stamp, counter or label line. No default rule may match them.
PROSE = [
    "Updated figures released on Thursday show 21,000 homes lost power.",
    "Updated guidance from the ministry, published on Dec 5, tells schools to stay closed.",
    "Published in 2019, the report found that 40% of the funds were never spent.",
    "Posted to the border in 2022, the unit lost 12 soldiers.",
    "As of 10:30 p.m. Tuesday, rescuers had pulled 14 people from the rubble.",
    "As of December 31, 2014, the company held 858 licences.",
    "Page generated a storm of complaints after it was shared 10,000 times.",
    "Watch the river rise: officials say it could crest at 9.5 metres on Friday.",
    "Watch: officials say the bridge will reopen in March.",
    "Listen - this is important, the mayor told the council on 5 December.",
    "Listen to the full interview (in German) on Radio Eins.",
    "More on that later - the council will vote in March.",
    "More from the minister: 'We will not resign,' she said on Tuesday.",
    "Read more about the storm on our live page, which is updated every 15 minutes.",
    "Related stories have appeared in 12 newspapers since Monday.",
    "Trending down for the third month, prices fell 0.4% in November.",
    "Today, 3,000 people marched through the capital.",
    "Yesterday's vote was 312 to 290.",
    "One hour ago the polls closed, and counting began at 402 stations.",
    "12,000 views were recorded on the ministry's video before it was taken down.",
    "Comments by the minister on 5 December angered the opposition.",
    "Vor 5 Minuten hatte der Minister noch erklärt, er werde nicht zurücktreten.",
    "Il y a 5 minutes de marche entre la gare et le tribunal.",
    "Hace 37 minutos que el tren debía haber salido, dijo un pasajero.",
    "Läs också vad regeringen svarade, skrev tidningen.",
    "Lesen Sie auch die Stellungnahme des Ministeriums, die am Abend veröffentlicht wurde.",
]
# Stamp, counter and label lines each rule exists for.
NOISE = [
    ("Published 17 minutes ago", "relative-time"), ("Updated 3 hours ago", "relative-time"),
    ("Updated: Dec 5, 2024, 10:14 a.m. ET", "stamp"), ("Published 5 December 2024", "stamp"),
    ("Posted on 12/05/2024 at 9:30 am", "stamp"), ("Last updated 10:14 GMT", "stamp"),
    ("As of 10:30 p.m. Tuesday", "refresh-stamp"), ("Page generated in 0.12 seconds", "page-generated"),
    ("15,031 views", "counter"), ("Comments (12)", "counter"), ("Share (4)", "counter"),
    ("Related article: Storm knocks out power to 200,000 homes", "teaser-label"),
    ("READ MORE: Riot is considering making these changes to the Worlds 2024 format", "teaser-label"),
    ("More on North Korea:", "teaser-label"), ("Watch: The moment the bridge collapsed", "teaser-label"),
    ("Related", "teaser-label"),
]


@pytest.mark.parametrize("sentence", PROSE)
def test_no_default_rule_swallows_prose(sentence: str) -> None:
    assert noise_rule(sentence) is None
    assert noise_rule(sentence, "en") is None


@pytest.mark.parametrize(("line", "rule"), NOISE)
def test_each_rule_still_matches_its_lines(line: str, rule: str) -> None:
    assert noise_rule(line, "en") == rule


def test_editorial_notices_are_not_prose_lookalikes() -> None:
    assert is_editorial_notice("Editor's note: This story has been updated to include the ministry's response.")
    assert not any(is_editorial_notice(sentence) for sentence in PROSE)


@pytest.fixture
def newsroom() -> FakeSite:
    site = FakeSite().start()
    yield site
    site.stop()


CORRECTION = "Correction: An earlier version of this article misstated the date the treaty took effect."


def test_a_correction_appended_to_every_article_is_a_correction_in_each(newsroom: FakeSite, db: str) -> None:
    stories = load_stories()
    urls = [newsroom.add(story) for story in stories]
    crawl(db, *urls)
    for story in stories:
        story.paragraphs.append(CORRECTION)
    assert crawl(db, *urls)["new_versions"] == len(urls)
    for url in urls:
        assert invoke_json(db, "log", url)[-1]["change"]["kinds"] == ["correction"]
    assert invoke_json(db, "ignore", "list", "--learned") == []


def test_one_sentence_added_to_a_story_at_many_urls_is_never_learned_away(newsroom: FakeSite, db: str) -> None:
    stories = load_stories()
    copies = [clone(stories[0]) for _ in range(6)]
    for k, copy in enumerate(copies):
        copy.slug = f"{copy.slug}-edition-{k}"
    edited = [*copies, stories[1], stories[2]]
    urls = [newsroom.add(story) for story in [*copies, *stories[1:]]]
    crawl(db, *urls)
    sentence = "The death toll has risen to 45, officials said on Thursday evening."
    for story in edited:
        story.paragraphs.append(sentence)
    summary = crawl(db, *urls)
    assert summary["new_versions"] == len(edited), summary
    assert invoke_json(db, "ignore", "list", "--learned") == []


def test_a_real_template_change_on_every_article_is_still_learned_and_said(newsroom: FakeSite, db: str) -> None:
    urls = [newsroom.add(story) for story in load_stories()]
    crawl(db, *urls)
    newsroom.template_block = "Sign up for our Morning Briefing newsletter and get the news in your inbox."
    done = run_redline(db, "crawl", *[f"-s{k}={v}" for k, v in FAST.items()], "--", *urls)
    assert done.returncode == 0, done.stderr
    assert "new versions 0" in done.stdout
    host = urls[0].split("/")[2].split(":")[0]
    learned = invoke_json(db, "ignore", "list", "--learned")
    assert [(t["text"], t["articles"], t["of_articles"]) for t in learned] == [
        (newsroom.template_block, 5, 5)]
    assert len(learned[0]["examples"]) == 3
    forget = f"redline ignore forget {host} {learned[0]['hash']}"
    assert f"learned a template paragraph of {host} (boilerplate: 5 of 5 articles)" in done.stdout
    assert forget in done.stdout
    entry = invoke_json(db, "log", urls[0], "--all")
    assert entry["fetches"][-1]["fetch"] == "noise-only"
    assert {"change": "added", "text": newsroom.template_block, "rule": "template"} in entry["fetches"][-1]["noise"]
    assert [(t["text"], t["forget"]) for t in entry["learned"]] == [(newsroom.template_block, forget)]
    assert forget in invoke(db, "log", urls[0], "--all").stdout
    forgot = invoke(db, "ignore", "forget", host, "--all-learned")
    assert forgot.exit_code == 0, forgot.output
    assert "recovered 0 version(s)" in forgot.stdout  # the page itself marks the block (a link) as boilerplate


def test_a_line_on_every_new_article_from_the_start_is_learned_and_forgetting_it_recovers(newsroom: FakeSite,
                                                                                          db: str) -> None:
    stories = load_stories()
    line = "Reporting by the agency's regional desk; additional reporting by staff correspondents."
    for story in stories:
        story.footer = line
    urls = [newsroom.add(story) for story in stories]
    first = crawl(db, *urls)
    assert [(t["text"], t["why"], t["articles"]) for t in first["templates_learned"]] == [(line, "first capture", 5)]
    for story in stories:
        story.footer = None
    assert crawl(db, *urls)["new_versions"] == 0
    host = urls[0].split("/")[2].split(":")[0]
    forgot = invoke(db, "ignore", "forget", host, "--all-learned")
    assert "recovered 5 version(s)" in forgot.stdout
    assert invoke_json(db, "log", urls[0])[-1]["change"]["kinds"] == ["paragraph-removed"]


def test_a_paragraph_added_to_fewer_than_five_articles_is_never_a_template(newsroom: FakeSite, db: str) -> None:
    """Every article of the site gains it in one batch, but three articles are not evidence enough (nor a
    site-wide edit). The paragraph is bare text: the fake site's template block is a link the page marks."""
    stories = load_stories()[:3]
    urls = [newsroom.add(story) for story in stories]
    crawl(db, *urls)
    for story in stories:
        story.paragraphs.insert(4, "Sign up for our Morning Briefing newsletter and get the news in your inbox.")
    summary = crawl(db, *urls)
    assert summary["new_versions"] == 3 and summary["site_wide"] == []
    assert invoke_json(db, "ignore", "list", "--learned") == []


def test_log_all_shows_each_skipped_paragraph_with_its_rule(newsroom: FakeSite, db: str) -> None:
    url = newsroom.add(load_stories()[0])
    crawl(db, url)
    crawl(db, url)  # every request re-renders the relative stamp, the counters and the teaser
    entry = invoke_json(db, "log", url, "--all")
    assert len(entry["versions"]) == 1
    second = entry["fetches"][1]
    assert second["fetch"] == "noise-only" and second["status"] == 200
    assert {n["rule"] for n in second["noise"]} >= {"relative-time", "counter"}
    text = invoke(db, "log", url, "--all").stdout
    assert "noise-only" in text and "[relative-time] Published" in text


def test_renoise_recovers_an_edit_an_over_eager_rule_hid(newsroom: FakeSite, db: str) -> None:
    story = load_stories()[3]
    url = newsroom.add(story)
    host = url.split("/")[2].split(":")[0]
    crawl(db, url)
    assert invoke(db, "ignore", "add", host, "^The pact").exit_code == 0
    target = next(i for i, p in enumerate(story.paragraphs) if p.startswith("The pact"))
    story.paragraphs[target] = story.paragraphs[target].replace("The pact stipulates", "The pact requires")
    assert crawl(db, url)["new_versions"] == 0
    noise = invoke_json(db, "log", url, "--all")["fetches"][-1]["noise"]
    assert {n["rule"] for n in noise} >= {"site:^The pact"}
    assert invoke(db, "ignore", "remove", host, "^The pact").exit_code == 0
    result = invoke_json(db, "renoise", url)
    assert [(r["version"], r["kinds"]) for r in result["recovered"]] == [(2, ["body-edit"])]
    latest = invoke_json(db, "log", url)[-1]
    assert latest["version"] == 2 and latest["change"]["recovered_at"]
    changes = invoke_json(db, "diff", url)["changes"]
    assert changes == [{"op": "replace", "old": "stipulates,", "new": "requires,"}]
    assert invoke_json(db, "renoise", url)["recovered"] == []  # idempotent
    assert invoke_json(db, "verify")["ok"]  # the recovered version joined the tamper-evident chain
    assert crawl(db, url)["new_versions"] == 0  # and the next crawl compares with the recovered state


def test_a_recovered_version_sits_at_its_capture_time_and_keeps_later_numbers(newsroom: FakeSite, db: str) -> None:
    story = load_stories()[3]
    url = newsroom.add(story)
    host = url.split("/")[2].split(":")[0]
    crawl(db, url)
    invoke(db, "ignore", "add", host, "^Hidden:")
    story.paragraphs.append("Hidden: the ministry withdrew its earlier statement on troop numbers.")
    crawl(db, url)
    story.title = story.title + " (updated)"
    crawl(db, url)
    before = invoke_json(db, "log", url)
    assert [v["version"] for v in before] == [1, 2]
    invoke(db, "ignore", "remove", host, "^Hidden:")
    text = invoke(db, "renoise", url).stdout
    assert "recovered 1 version(s)" in text and f"{url} v3 (paragraph-added)" in text
    after = invoke_json(db, "log", url)
    assert [v["version"] for v in after] == [1, 3, 2]  # capture order; numbers already shown never change
    assert after[2] == before[1]
    assert invoke_json(db, "show", url)["version"] == 2  # the article is in version 2 now


def _declared_page(story_url: str, stale: str, moving: str, signal: str) -> str:
    story = load_stories()[2]
    story.updated = stale
    story.show_updated = False
    page = render(story, story_url, 0)
    if signal == "article:modified_time":
        return re.sub(r'(property="article:modified_time" content=")[^"]+', rf"\g<1>{moving}", page)
    if signal == "json-ld":
        graph = json.dumps({"@context": "https://schema.org", "@graph": [{"@type": "WebPage", "dateModified": moving}]})
        return page.replace("</head>", f'<script type="application/ld+json">{graph}</script></head>')
    return page.replace('<div class="article-body">', f'<p class="stamp">Updated {_human(moving)}</p><div class="article-body">')


def _human(iso: str) -> str:
    """An ISO time as a newsroom prints it: 'Dec 6, 2024, 9:30 a.m. GMT'."""
    when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return f"{when:%b} {when.day}, {when.year}, {when.hour % 12 or 12}:{when:%M} {'a.m.' if when.hour < 12 else 'p.m.'} GMT"


@pytest.mark.parametrize("signal", ["article:modified_time", "json-ld", "visible"])
def test_a_declared_update_is_read_from_whichever_signal_moved(newsroom: FakeSite, db: str, signal: str) -> None:
    url = newsroom.url("declared")
    stale = "2024-12-05T10:00:00Z"
    newsroom.routes["/declared"] = Route(body=_declared_page(url, stale, stale, signal))
    crawl(db, url)
    assert invoke_json(db, "log", url)[0]["updated"] == stale
    newsroom.routes["/declared"] = Route(body=_declared_page(url, stale, "2024-12-06T09:30:00Z", signal))
    crawl(db, url)
    latest = invoke_json(db, "log", url, "--all")["versions"][-1]
    assert latest["updated"] == "2024-12-06T09:30:00Z"
    assert latest["updated_signal"] == ("visible" if signal == "visible" else signal)
    assert latest["change"]["kinds"] == ["declared-update-only"] and latest["change"]["declared"]


def test_a_future_or_pre_publication_date_is_not_a_declared_update(newsroom: FakeSite, db: str) -> None:
    url = newsroom.url("declared")
    stale = "2024-12-05T10:00:00Z"
    newsroom.routes["/declared"] = Route(body=_declared_page(url, stale, stale, "json-ld"))
    crawl(db, url)
    for bogus in ("2099-01-01T00:00:00Z", "2001-01-01T00:00:00Z"):
        newsroom.routes["/declared"] = Route(body=_declared_page(url, stale, bogus, "json-ld"))
        assert crawl(db, url)["new_versions"] == 0
    fetches = invoke_json(db, "log", url, "--all")
    assert [v["updated"] for v in fetches["versions"]] == [stale]  # the bogus dates were read and refused
    bodies = {f["body_sha256"] for f in fetches["fetches"] if f["status"] == 200}
    assert len(bodies) == 3  # both bogus pages were fetched and kept, and made no version


LINKED_CORRECTION = ("Correction: An earlier version of this article misstated the date of the council vote. "
                     "It was Tuesday.")


def _with_linked_correction(page_html: str, url: str, inline: bool) -> tuple[str, str] | None:
    """A real page before and after a correction is appended to its article as a link to the corrections
    page (``inline``) or as text that a corrections box elsewhere on the page also links; None unless the
    extractor keeps the correction and the page's links make it link-dense boilerplate."""
    import lxml.html

    from archive.text.normalize import comparable
    from bench.realpages import point_at
    from scraper.extract import extract_page

    before = point_at(page_html, url)
    tree = lxml.html.document_fromstring(before)
    kept = comparable(extract_page(before, url).text)
    paras = [p for p in tree.iter("p") if len(comparable(p.text_content())) >= 60
             and comparable(p.text_content()) in kept]
    body = tree.find("body")
    if not paras or body is None:
        return None
    box = lxml.html.fragment_fromstring(f'<aside><a href="/corrections/1">{LINKED_CORRECTION}</a></aside>')
    if not inline:
        body.append(box)
        before = lxml.html.tostring(tree, encoding="unicode", doctype="<!DOCTYPE html>")
    note = lxml.html.fragment_fromstring(f'<p><a href="/corrections/1">{LINKED_CORRECTION}</a></p>' if inline
                                         else f"<p>{LINKED_CORRECTION}</p>")
    paras[-1].addnext(note)
    after = lxml.html.tostring(tree, encoding="unicode", doctype="<!DOCTYPE html>")
    found = extract_page(after, url)
    if comparable(LINKED_CORRECTION) not in comparable(found.text) or LINKED_CORRECTION not in found.boilerplate:
        return None
    return before, after


def test_a_link_dense_correction_on_a_real_page_is_a_correction(newsroom: FakeSite, db: str) -> None:
    """A correction whose whole text is a link on the page reads as a link-dense teaser; as an editorial
    notice it must still make a version, of kind correction, on a real news page."""
    from bench import realpages

    url = newsroom.url("news/corrected")
    pages = (_with_linked_correction(page.html, url, inline) for page in realpages.load(limit=40)
             for inline in (True, False))
    found = next((p for p in pages if p), None)
    assert found, "no real page keeps a linked correction as link-dense text: the test lost its subject"
    before, after = found
    newsroom.routes["/news/corrected"] = Route(body=before)
    assert crawl(db, url)["new_articles"] == 1
    newsroom.routes["/news/corrected"] = Route(body=after)
    assert crawl(db, url)["new_versions"] == 1
    latest = invoke_json(db, "log", url)[-1]
    assert latest["version"] == 2 and latest["change"]["kinds"] == ["correction"]
    assert invoke_json(db, "diff", url)["changes"] == [{"op": "insert", "old": "", "new": LINKED_CORRECTION}]
