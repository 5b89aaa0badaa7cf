"""Every view of a diff shows the page's own words (issue 22, finding 5): em dashes, curly quotes and the
spaces as captured, in words, unified, JSON, the web page and the citation's diff.html; normalization is
only how texts are compared. And a range whose FROM was captured after its TO is refused everywhere.

One archive for the module, from two real crawls of the loopback site: a story with a sentence full of
typographic characters (an em dash pair, curly quotes, a non-breaking space) and a paragraph carrying a
per-request stamp inside it (a masked span: the case where compared text leaked into what was shown).
Between the crawls a figure in that sentence changes, the paragraph after it is removed, and hyphens
elsewhere become em dashes.
"""
from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import lxml.html
import pytest

from redline.fakesite import FakeSite, load_stories
from tests.conftest import crawl, run_redline, start_serve
from tests.test_web import ARGS, CHROMIUM, get

SENTENCE = ("Of the four samples, the third \u2014 liquid water \u2014 was the one with \u201cclear\u201d signs, "
            "valued at $8.8\u00a0billion by the agency\u2019s own count.")
SENTENCE_NOW = SENTENCE.replace("8.8", "8.6")
STAMPED = "The panel met on Tuesday Updated 5 minutes ago and it agreed to publish the full \u2018raw\u2019 data."
DASHED_THEN = "Officials said - after a long pause - that the talks would resume in the spring."
DASHED_NOW = DASHED_THEN.replace(" - ", " \u2014 ")
STRAIGHT = re.compile(r"the third - |\"clear\"|agency's|'raw'")  # what the compared form would show


@dataclass
class Built:
    db: str
    url: str
    removed: str                # the paragraph v2 dropped, as the page had it
    shown: dict[int, str]       # 'show --json' text of each version: the captured text


def shown_as(text: str) -> str:
    """A sentence as the archive stores it: the extractor turns a non-breaking space into a space."""
    return text.replace("\u00a0", " ")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    db = str(tmp_path_factory.mktemp("words") / "archive.db")
    site = FakeSite(frozen=True).start()
    story = load_stories()[0]
    story.paragraphs[1:1] = [SENTENCE, STAMPED, DASHED_THEN]
    url = site.add(story)
    try:
        crawl(db, url)
        removed = story.paragraphs.pop(4)
        story.paragraphs[1] = SENTENCE_NOW
        story.paragraphs[3] = DASHED_NOW
        assert crawl(db, url)["new_versions"] == 1
        shown = {n: json.loads(run_redline(db, "show", url, "--version", str(n), "--json").stdout)["text"]
                 for n in (1, 2)}
        yield Built(db, url, removed, shown)
    finally:
        site.stop()


def test_the_archive_holds_the_typographic_text(built: Built) -> None:
    assert shown_as(SENTENCE) in built.shown[1] and shown_as(SENTENCE_NOW) in built.shown[2]
    assert DASHED_THEN in built.shown[1] and DASHED_NOW in built.shown[2] and built.removed not in built.shown[2]


def test_the_word_diff_quotes_the_page(built: Built) -> None:
    done = run_redline(built.db, "diff", built.url)
    assert done.returncode == 0, done.stderr
    marked = shown_as(SENTENCE).replace("$8.8", "[-$8.8-]{+$8.6+}")
    assert marked in done.stdout.splitlines(), done.stdout
    assert f"[-{built.removed}-]" in done.stdout
    assert STRAIGHT.search(done.stdout) is None


def test_the_unified_diff_quotes_the_page(built: Built) -> None:
    done = run_redline(built.db, "diff", built.url, "1", "2", "--format", "unified")
    lines = done.stdout.splitlines()
    assert "-" + shown_as(SENTENCE) in lines and "+" + shown_as(SENTENCE_NOW) in lines, done.stdout
    assert "-" + built.removed in lines
    assert "The panel met on Tuesday and it agreed to publish the full \u2018raw\u2019 data." in done.stdout
    assert STRAIGHT.search(done.stdout) is None


def test_the_json_text_fields_quote_the_page(built: Built) -> None:
    data = json.loads(run_redline(built.db, "diff", built.url, "--json", "--context").stdout)
    changed, removed = data["changes"]
    assert (changed["old"], changed["new"]) == ("$8.8", "$8.6")
    assert changed["context"] == shown_as(SENTENCE_NOW)
    assert removed == {"op": "delete", "old": built.removed, "new": "", "paragraph": 5, "context": built.removed}
    assert "\u201c" in built.removed  # the removed paragraph carries curly quotes of its own


@pytest.fixture(scope="module")
def web(built: Built) -> Iterator[tuple[str, str]]:
    """A real ``redline serve`` on the archive: its base URL and the article's short ID."""
    proc, line = start_serve(built.db)
    try:
        base = re.search(r"http://\S+/", line).group(0).rstrip("/")  # type: ignore[union-attr]
        yield base, json.loads(run_redline(built.db, "list", "--json").stdout)[0]["id"]
    finally:
        proc.terminate()
        proc.wait(30)


def test_the_web_diff_and_api_quote_the_page(built: Built, web: tuple[str, str]) -> None:
    if not Path(CHROMIUM).exists() and os.environ.get("REDLINE_REQUIRE_BROWSER", "") in ("", "0"):
        pytest.skip("needs Debian's chromium: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    base, sid = web
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/a/{sid}/diff/1/2")
        rows = page.locator(".sbs .row")
        old_side, new_side = rows.locator(".old").all_inner_texts(), rows.locator(".new").all_inner_texts()
        browser.close()
    assert shown_as(SENTENCE).replace("$8.8", "[-$8.8-]") in old_side
    assert shown_as(SENTENCE_NOW).replace("$8.6", "{+$8.6+}") in new_side
    assert f"[-{built.removed}-]" in old_side
    assert DASHED_THEN in old_side and DASHED_NOW in new_side  # each side as its own version has it
    assert STRAIGHT.search("\n".join(old_side + new_side)) is None
    status, _, body = get(f"{base}/api/diff?url={built.url}&old=1&new=2")
    assert status == 200 and json.loads(body)["changes"][1]["old"] == built.removed


def test_the_citation_diff_is_the_web_diff(built: Built, tmp_path: Path) -> None:
    bundle = tmp_path / "c.wacz"
    done = run_redline(built.db, "cite", built.url, "1", "2", "-o", str(bundle))
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(bundle) as z:
        page = z.read("citation/diff.html").decode("utf-8")
        marked = z.read("citation/diff.txt").decode("utf-8")
    doc = lxml.html.document_fromstring(page)
    inline = [p.text_content() for p in doc.cssselect(".inline p.row")]
    assert shown_as(SENTENCE).replace("$8.8", "[-$8.8-]{+$8.6+}") in inline  # never "$8.8$8.6"
    assert f"[-{built.removed}-]" in inline
    assert DASHED_THEN in inline
    header = doc.cssselect("table.fields")[0].text_content()
    assert all(name in header for name in ("headline", "byline", "published", "updated"))
    assert "Russia-North Korea Defense Pact" in header and "AFP" in header
    legend = doc.cssselect("p.legend")[0].text_content()
    assert "[-like this-]" in legend and "{+like this+}" in legend
    assert "v1 (captured" in doc.cssselect("p.meta")[0].text_content()
    assert "default-src 'none'" in page and "<script" not in page and "/a/" not in page  # no links to a server
    assert shown_as(SENTENCE).replace("$8.8", "[-$8.8-]{+$8.6+}") in marked.splitlines()
    assert STRAIGHT.search(page + marked) is None


@pytest.mark.parametrize("args", [["diff", "{url}", "2", "1"], ["diff", "{url}", "-1", "-2", "--json"],
                                  ["cite", "{url}", "2", "1", "-o", "{out}"]])
def test_a_reversed_range_is_refused(built: Built, tmp_path: Path, args: list[str]) -> None:
    out = tmp_path / "r.wacz"
    done = run_redline(built.db, *[a.format(url=built.url, out=out) for a in args])
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert re.fullmatch(r"Error: version 2 \(captured \S+\) was captured after version 1 \(captured \S+\): "
                        r"give the earlier version first, 1 then 2", done.stderr.strip()), done.stderr
    assert not out.exists()
    assert run_redline(built.db, "diff", built.url, "2", "2").returncode == 0  # one version against itself


def test_a_reversed_range_is_refused_on_the_web_and_the_api(built: Built, web: tuple[str, str]) -> None:
    base, sid = web
    status, _, body = get(f"{base}/a/{sid}/diff/2/1")
    assert status == 400 and "give the earlier version first, 1 then 2" in body.decode()
    status, headers, body = get(f"{base}/api/diff?url={built.url}&old=2&new=1")
    assert status == 400 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"].endswith("give the earlier version first, 1 then 2")
    assert get(f"{base}/a/{sid}/diff/1/2")[0] == 200

