"""Change fidelity: scripted rounds of noise and real edits against the loopback site.

Every round is a real crawl of all five fixture articles. The module measures
edits caught out of edits made, and false versions out of noise-only recrawls,
and requires both to be perfect.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from redline.fakesite import FakeSite, Story, load_stories
from tests.conftest import crawl, invoke, invoke_json

Edit = Callable[[FakeSite, list[Story]], dict[int, list[str]]]


def noise_only(site: FakeSite, stories: list[Story]) -> dict[int, list[str]]:
    return {}  # every request already re-renders teasers, counters and timestamps


def unicode_and_whitespace(site: FakeSite, stories: list[Story]) -> dict[int, list[str]]:
    p = stories[0].paragraphs
    p[1] = unicodedata.normalize("NFD", p[1]).replace(" ", "  ", 3).replace("“", '"').replace("”", '"')
    p[2] = p[2].replace("military", "mili\u200btary")
    stories[1].title = stories[1].title.replace(" ", "\u00a0")
    return {}


def template_block_appears(site: FakeSite, stories: list[Story]) -> dict[int, list[str]]:
    site.template_block = "Sign up for our Morning Briefing newsletter and get the news in your inbox."
    return {}


def template_block_rotates(site: FakeSite, stories: list[Story]) -> dict[int, list[str]]:
    site.template_block = "Support independent journalism: become a member today for just $1."
    return {}


def first_edits(site: FakeSite, stories: list[Story]) -> dict[int, list[str]]:
    stories[0].paragraphs[0] = stories[0].paragraphs[0].replace("Wednesday", "Tuesday")
    stories[1].paragraphs[6] = stories[1].paragraphs[6].replace("10,000", "12,000")
    stories[2].paragraphs.insert(5, "The ministry added that further talks would be held in Pyongyang next year.")
    del stories[3].paragraphs[4]
    stories[4].title = "North Korea-Russia defense treaty takes full effect"
    return {0: ["body-edit"], 1: ["body-edit"], 2: ["paragraph-added"], 3: ["paragraph-removed"], 4: ["headline"]}


def second_edits(site: FakeSite, stories: list[Story]) -> dict[int, list[str]]:
    stories[0].byline = "AFP and Moscow Times staff"
    stories[1].paragraphs.append("Correction: An earlier version of this article misstated the number of "
                                 "troops reported.")
    stories[2].updated = "2024-12-06T08:00:00Z"
    stories[3].updated = "2024-12-06T09:30:00Z"
    stories[3].paragraphs[0] = stories[3].paragraphs[0].replace("Tuesday", "Monday")
    return {0: ["byline"], 1: ["correction"], 2: ["declared-update-only"], 3: ["body-edit"]}


ORIGINAL_TITLE: dict[str, str] = {}


def headline_flips_back(site: FakeSite, stories: list[Story]) -> dict[int, list[str]]:
    stories[4].title = ORIGINAL_TITLE["4"]
    return {4: ["headline"]}


ROUNDS: list[tuple[str, Edit]] = [
    ("noise only", noise_only),
    ("unicode and whitespace", unicode_and_whitespace),
    ("template block appears on every page", template_block_appears),
    ("template block rotates", template_block_rotates),
    ("first edits", first_edits),
    ("noise only again", noise_only),
    ("second edits", second_edits),
    ("A/B headline flips back", headline_flips_back),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeSite, list[Story], list[str], str]]:
    """One site and archive shared by the scenario's checks (the rounds take ~35 s)."""
    site = FakeSite().start()
    stories = load_stories()
    urls = [site.add(story) for story in stories]
    yield site, stories, urls, str(tmp_path_factory.mktemp("fidelity") / "archive.db")
    site.stop()


@pytest.fixture(scope="module")
def scenario(world: tuple[FakeSite, list[Story], list[str], str]) -> dict[str, Any]:
    site, stories, urls, db = world
    ORIGINAL_TITLE["4"] = stories[4].title
    assert crawl(db, *urls)["new_articles"] == 5
    figures: dict[str, Any] = {"edits_made": 0, "edits_caught": 0, "noise_recrawls": 0, "false_versions": 0,
                               "misses": []}
    for name, edit in ROUNDS:
        expected = edit(site, stories)
        before = {u: len(_versions(db, u)) for u in urls}
        crawl(db, *urls)
        for i, url in enumerate(urls):
            new = _versions(db, url)[before[url]:]
            if i in expected:
                figures["edits_made"] += 1
                caught = len(new) == 1 and new[0]["change"]["kinds"] == expected[i]
                figures["edits_caught"] += caught
                figures["misses"] += [] if caught else [(name, i, expected[i], new)]
            else:
                figures["noise_recrawls"] += 1
                figures["false_versions"] += len(new)
                figures["misses"] += [(name, i, "no version", new)] if new else []
    return figures


@pytest.fixture(scope="module")
def db(world: tuple[FakeSite, list[Story], list[str], str]) -> str:
    return world[3]


@pytest.fixture(scope="module")
def urls(world: tuple[FakeSite, list[Story], list[str], str]) -> list[str]:
    return world[2]


def _versions(db: str, url: str) -> list[dict[str, Any]]:
    return [e for e in invoke_json(db, "log", url) if "version" in e]


def test_every_edit_caught_and_no_false_versions(scenario: dict[str, Any], db: str, urls: list[str]) -> None:
    print(f"\nedits caught {scenario['edits_caught']}/{scenario['edits_made']}; "
          f"false versions {scenario['false_versions']}/{scenario['noise_recrawls']} noise-only recrawls")
    assert scenario["edits_made"] == 10 and scenario["noise_recrawls"] == 30
    assert scenario["edits_caught"] == scenario["edits_made"], scenario["misses"]
    assert scenario["false_versions"] == 0, scenario["misses"]


def test_diffs_show_the_edited_words(scenario: dict[str, Any], db: str, urls: list[str]) -> None:
    first = invoke_json(db, "diff", urls[0], "1", "2")
    assert first["changes"] == [{"op": "replace", "old": "Wednesday", "new": "Tuesday"}]
    number = invoke_json(db, "diff", urls[1], "1", "2")
    assert number["changes"] == [{"op": "replace", "old": "10,000", "new": "12,000"}]
    removed = invoke_json(db, "diff", urls[3], "1", "2")
    assert [c["op"] for c in removed["changes"]] == ["delete"]
    assert removed["changes"][0]["old"].startswith("The pact stipulates,")
    headline = invoke_json(db, "diff", urls[4], "1", "2")
    assert headline["title"]["new"] == "North Korea-Russia defense treaty takes full effect"
    assert headline["changes"] == []
    plain = invoke(db, "diff", urls[1]).stdout
    assert "{+Correction: An earlier version" in plain and "Related article" not in plain


def test_declared_and_stealth_are_told_apart(scenario: dict[str, Any], db: str, urls: list[str]) -> None:
    declared_only = _versions(db, urls[2])[-1]
    assert declared_only["change"]["declared"] and not declared_only["change"]["stealth"]
    assert declared_only["updated"] == "2024-12-06T08:00:00Z"
    declared_edit = _versions(db, urls[3])[-1]["change"]
    assert declared_edit["declared"] and not declared_edit["stealth"]
    stealth = invoke_json(db, "log", urls[0], "--stealth")
    assert [v["version"] for v in stealth] == [2, 3]  # the word fix and the byline change


def test_flip_flop_is_marked(scenario: dict[str, Any], db: str, urls: list[str]) -> None:
    versions = _versions(db, urls[4])
    assert [v["change"] and v["change"]["reverts_to"] for v in versions] == [None, None, 1]
    assert "flip-flop: back to v1" in invoke(db, "log", urls[4]).stdout


def test_site_ignore_rule_silences_a_recurring_line(tmp_path: Path) -> None:
    site = FakeSite().start()
    stories = load_stories()
    urls = [site.add(story) for story in stories]
    db = str(tmp_path / "rules.db")
    crawl(db, urls[0])
    host = urls[0].split("/")[2].split(":")[0]
    assert invoke(db, "ignore", "add", host, r"^Listen to this article").exit_code == 0
    stories[0].paragraphs.insert(2, "Listen to this article: 4 min")
    assert crawl(db, urls[0])["unchanged"] == 1
    stories[0].paragraphs.insert(3, "A new paragraph that is a real edit.")
    assert crawl(db, urls[0])["new_versions"] == 1
    assert invoke(db, "ignore", "add", host, "(").exit_code == 2  # a malformed pattern is invalid input
    site.stop()
