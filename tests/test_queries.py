"""The query layer (archive.queries) on a real archive: two real crawls of the loopback site.

Checks what the CLI tests cannot see: keyset pages that add up to the whole list, filters done
in SQL that agree with the rule each result states, due times worked out in SQL that agree with
the re-check policy, the structured diff, and the schedules' last runs.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, update

from archive import queries
from archive.capture import Found
from archive.clock import utcnow
from archive.errors import ArchiveError
from archive.schema import tables as t
from archive.schema.db import database_url, open_engine
from archive.text.normalize import url_key
from archive.vocab import ChangeKind, EventKind, RunOutcome
from archive.watch import frontier, runs, schedules
from archive.watch.recheck import Policy
from redline.fakesite import FakeSite, load_stories
from redline.render import Styler, changed_paragraphs
from tests.conftest import crawl

MARKERS = "Readers wrote [-in-] and {+out+} in brackets, which is no edit at all."
POLICY = "1h:1m,1d:10m,7d"


@dataclass
class Built:
    engine: Engine
    urls: list[str]
    site: FakeSite


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """Five stories crawled, then edited (a headline, a declared update, a stealth word fix next to a
    paragraph holding diff markers, a 410) and crawled again."""
    db = str(tmp_path_factory.mktemp("queries") / "archive.db")
    site = FakeSite().start()
    stories = load_stories()
    urls = [site.add(s) for s in stories]
    stories[0].paragraphs.insert(1, MARKERS)
    engine = None
    try:
        crawl(db, *urls)
        stories[0].paragraphs[0] = stories[0].paragraphs[0].replace("Wednesday", "Thursday")
        stories[1].title += " (updated)"
        stories[1].updated = "2024-12-06T10:00:00Z"
        stories[2].paragraphs.append("Correction: an earlier version misstated the date.")
        site.set_status(stories[4].slug, 410)
        assert crawl(db, *urls)["new_versions"] == 3
        engine = open_engine(database_url(db))
        yield Built(engine, urls, site)
    finally:
        site.stop()
        if engine is not None:
            engine.dispose()


def _walk(fetch: Any, limit: int) -> list[Any]:
    """Every item, page by page, following ``next`` cursors."""
    items, after = [], None
    while True:
        page = fetch(limit=limit, after=after)
        assert len(page.items) <= limit
        items += page.items
        if page.next is None:
            return items
        after = page.next


def test_list_pages_add_up_to_the_whole_list(built: Built) -> None:
    whole = queries.list_articles(built.engine)
    assert whole.next is None and len(whole.items) == 5
    changed = [a.last_changed for a in whole.items]
    assert changed == sorted(changed, reverse=True)
    for limit in (1, 2, 4):
        assert _walk(lambda **kw: queries.list_articles(built.engine, **kw), limit) == whole.items
    gone = queries.list_articles(built.engine, status="gone").items
    assert [a.url for a in gone] == [built.urls[4]]
    newest = whole.items[0].last_changed
    assert {a.url for a in queries.list_articles(built.engine, changed_since=newest).items} == {
        a.url for a in whole.items if a.last_changed >= newest}


def test_version_filters_in_sql_agree_with_each_versions_own_flags(built: Built) -> None:
    for url in built.urls:
        every = queries.versions(built.engine, url).items
        stealth = queries.versions(built.engine, url, stealth=True).items
        declared = queries.versions(built.engine, url, declared=True).items
        either = queries.versions(built.engine, url, stealth=True, declared=True).items
        assert stealth == [v for v in every if v.change and v.change.stealth]
        assert declared == [v for v in every if v.change and v.change.declared]
        assert either == [v for v in every if v.change and (v.change.stealth or v.change.declared)]
        assert _walk(lambda **kw: queries.versions(built.engine, url, **kw), 1) == every
    fixed, updated = (queries.versions(built.engine, u).items[-1].change for u in built.urls[:2])
    assert fixed is not None and fixed.stealth and fixed.kinds == [ChangeKind.BODY_EDIT]
    assert updated is not None and updated.declared and ChangeKind.HEADLINE in updated.kinds


def test_events_and_log_keep_versions_and_events_apart(built: Built) -> None:
    log = queries.log(built.engine, built.urls[4])
    assert [v.version for v in log.versions] == [1]
    assert [e.event for e in log.events] == [EventKind.GONE] and log.events[0].detail == "HTTP 410"
    assert _walk(lambda **kw: queries.events(built.engine, built.urls[4], **kw), 1) == log.events
    assert log.article.status == "gone"


def test_one_lookup_finds_every_spelling_and_names_what_is_wrong(built: Built) -> None:
    url = built.urls[0]
    found = queries.lookup(built.engine, url.replace("http://", "HTTP://") + "?utm_source=x#top")
    assert found is not None and found.url == url
    with pytest.raises(ArchiveError, match="no archived article for http://127.0.0.1:1/x; see 'redline list'"):
        queries.article(built.engine, "http://127.0.0.1:1/x")
    with pytest.raises(ArchiveError, match="give the article's http\\(s\\) URL"):
        queries.article(built.engine, "ftp://x/y")
    with pytest.raises(ArchiveError, match="bad page cursor"):
        queries.list_articles(built.engine, limit=1, after="garbage")


def test_diff_is_structured_and_ignores_marker_text_in_the_article(built: Built) -> None:
    result = queries.diff(built.engine, built.urls[0])
    assert (result.old.version, result.new.version) == (1, 2) and not result.title.changed
    assert [(c.op, c.old, c.new) for c in result.changes] == [("replace", "Wednesday", "Thursday")]
    changed = [p for p in result.paragraphs if p.changed]
    assert len(changed) == 1
    assert "".join(s.new if s.op != "delete" else "" for s in changed[0].spans) == result.new_text.split("\n\n")[0]
    assert any(MARKERS in s.old for p in result.paragraphs for s in p.spans)  # the marker paragraph is there...
    text = changed_paragraphs(result.paragraphs, Styler(False))
    assert "[-Wednesday-]{+Thursday+}" in text and MARKERS not in text  # ...but shown only if it changed
    title = queries.diff(built.engine, built.urls[1]).title
    assert title.changed and title.new == title.old + " (updated)"


def _reference_due(engine: Engine, name: str, policy: str) -> list[tuple[str, Any]]:
    """When each tracked URL is due, worked out in Python one minute at a time: the first minute after
    the last check at which the policy's interval for the article's age then has passed. The age counts
    from the latest of the times the latest version states (none after its capture), or from an observed
    change after the first capture when that is later, else from the last change."""
    from sqlalchemy import select

    a, au, tr, s, v = t.articles, t.article_urls, t.tracked, t.schedules, t.versions
    query = (select(tr.c.url, tr.c.hint, tr.c.first_seen.label("tracked"), tr.c.last_seen, a.c.last_checked,
                    a.c.last_changed, a.c.first_seen, a.c.version_count, v.c.published, v.c.updated, v.c.captured_at)
             .outerjoin(au, au.c.url == tr.c.url).outerjoin(a, a.c.id == au.c.article_id)
             .outerjoin(v, (v.c.article_id == a.c.id) & (v.c.number == a.c.latest_version))
             .join(s, s.c.id == tr.c.schedule_id).where(s.c.name == name))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    items = []
    for r in rows:
        if r.last_checked is None:
            at = r.tracked
        elif r.hint and r.hint > r.last_checked:
            at = r.last_seen
        else:
            at = r.last_checked + timedelta(minutes=1)
            said = [datetime.fromisoformat(x) for x in (r.published, r.updated) if x]
            said = [w if w.tzinfo else w.replace(tzinfo=UTC) for w in said]
            said = [w for w in said if w <= r.captured_at]
            since = r.last_changed or r.first_seen
            if said:
                since = max([*said, since]) if r.version_count > 1 else max(said)
            while at < r.last_checked + Policy.parse(policy).interval(at - since):
                at += timedelta(minutes=1)
        items.append((at, r.url))
    return [(url, at) for at, url in sorted(items)]


def check_due_matches_policy(engine: Engine, urls: list[str]) -> None:
    """Track ``urls`` plus one never fetched, with one feed hint, and compare the stored due times
    with the policy; a second schedule with another policy shares some URLs."""
    now = utcnow()
    for name, policy in (("q", POLICY), ("r", "30m")):
        schedules.add(engine, schedules.JobSpec(name=name, every_seconds=60, feeds=["http://127.0.0.1:1/f"],
                                                recheck=policy), now)
    never = urls[0].rsplit("/", 1)[0] + "/never-fetched"
    schedules.track(engine, "q", [Found(u, "feed") for u in urls] + [Found(never, "feed")], now)
    schedules.track(engine, "r", [Found(u, "feed") for u in urls[:2]], now)
    with engine.begin() as conn:  # spread the articles over the policy's steps
        ids = []
        for k, url in enumerate(urls):
            found = queries.lookup(conn, url)
            assert found is not None
            ids.append(found.id)
            conn.execute(update(t.articles).where(t.articles.c.id == found.id).values(
                last_changed=now - timedelta(hours=3 * k), last_checked=now - timedelta(minutes=7 * k)))
        frontier.refresh_articles(conn, ids)  # what the store does in the transaction of a capture
    schedules.track(engine, "q", [Found(urls[1], "feed", now + timedelta(seconds=1))], now)
    reference = _reference_due(engine, "q", POLICY)
    for when in (now, now + timedelta(minutes=9), now + timedelta(days=2)):
        got = queries.due(engine, ["q"], now=when)
        assert [(d.url, d.due) for d in got] == reference
        assert [d.url for d in queries.due(engine, ["q"], now=when, limit=2)] == [d.url for d in got[:2]]
        due_now = [d.url for d in got if d.due <= when]
        assert [d.url for d in queries.due(engine, ["q"], now=when, only_due=True)] == due_now
        assert list(queries.due_urls(engine, "q", when, page=2)) == due_now  # keyset pages
        assert all(d.due_now == (d.due <= when) for d in got)
        both = sorted([(at, url, "q") for url, at in reference] +
                      [(at, url, "r") for url, at in _reference_due(engine, "r", "30m")])
        assert [(d.due, d.url, d.job) for d in queries.due(engine, now=when, limit=3)] == both[:3]
    assert {d.reason for d in queries.due(engine, now=now) if d.url == never} == {"never fetched"}
    assert {d.reason for d in queries.due(engine, ["q"], now=now) if d.url == url_key(urls[1])} == {
        "listed as updated 0s ago, after the last check"}
    with pytest.raises(ArchiveError, match="no schedule named 'nope'"):
        queries.due(engine, ["nope"], now=now)


def test_due_in_sql_agrees_with_the_recheck_policy(built: Built) -> None:
    check_due_matches_policy(built.engine, built.urls)


def test_schedules_carry_their_latest_run_and_runs_page_newest_first(built: Built) -> None:
    now = utcnow()
    schedules.add(built.engine, schedules.JobSpec(name="runs-q", every_seconds=60, urls=built.urls[:2]), now)
    schedules.track(built.engine, "runs-q", [Found(u, "list") for u in built.urls[:2]], now)
    ids = []
    for outcome in ("ok", "failed", "timeout"):
        ids.append(runs.start(built.engine, "runs-q", _schedule_id(built.engine, "runs-q")))
        runs.finish(built.engine, ids[-1], outcome)
    entry = next(s for s in queries.list_schedules(built.engine) if s.name == "runs-q")
    assert entry.tracked == 2 and entry.last_run is not None and entry.last_run.outcome == RunOutcome.TIMEOUT
    newest_first = queries.runs(built.engine, job="runs-q", limit=None).items
    assert [r.id for r in newest_first] == ids[::-1]
    assert _walk(lambda **kw: queries.runs(built.engine, job="runs-q", **kw), 2) == newest_first


def _schedule_id(engine: Engine, name: str) -> int:
    from sqlalchemy import select

    with engine.connect() as conn:
        return conn.execute(select(t.schedules.c.id).where(t.schedules.c.name == name)).scalar_one()


def test_changes_across_the_archive_page_and_filter_in_sql(built: Built) -> None:
    whole = queries.changes(built.engine)
    assert whole.next is None and len(whole.items) == 5 + 3 + 1  # first captures, edits, the 410 (a takedown)
    assert [c.at for c in whole.items] == sorted((c.at for c in whole.items), reverse=True)
    for limit in (1, 3):
        assert _walk(lambda **kw: queries.changes(built.engine, **kw), limit) == whole.items
    [gone] = [c for c in whole.items if c.event]
    assert gone.url == built.urls[4] and gone.event.event == "gone" and gone.event.detail == "HTTP 410"
    assert gone.previous is None and gone.entry.version == 1  # the version taken down
    assert queries.changes(built.engine, kinds=["gone"]).items == [gone]
    assert queries.changes(built.engine, kinds=["restored"]).items == []
    assert gone not in queries.changes(built.engine, kinds=["headline"]).items
    versions = [c for c in whole.items if not c.event]
    for c in versions:
        assert c.previous == (None if c.entry.version == 1 else c.entry.version - 1)
        assert c.entry == next(v for v in queries.versions(built.engine, c.url).items if v.version == c.entry.version)
    edits = [c for c in versions if c.entry.change]
    assert queries.changes(built.engine, kinds=["headline"]).items == [c for c in edits if "headline" in c.entry.change.kinds]
    assert queries.changes(built.engine, stealth=True).items == [c for c in edits if c.entry.change.stealth]
    assert queries.changes(built.engine, declared=True).items == [c for c in edits if c.entry.change.declared]
    assert queries.changes(built.engine, search="(UPDATED)").items == [c for c in edits if c.url == built.urls[1]]
    one = queries.article(built.engine, built.urls[0])
    assert [c.entry.version for c in queries.changes(built.engine, article_id=one.id).items] == [2, 1]
    for newest in (whole.items[0].at, gone.at):
        assert queries.changes(built.engine, since=newest).items == [c for c in whole.items if c.at >= newest]
        assert queries.changes(built.engine, until=newest).items == [c for c in whole.items if c.at < newest]
    assert queries.changes(built.engine, site="nowhere.example").items == []
    assert len(queries.list_articles(built.engine, site=one.host, search="127.0.0.1").items) == 5
    with pytest.raises(ArchiveError, match="unknown change kind"):
        queries.changes(built.engine, kinds=["nonsense"])
