"""The Core tables in archive.tables are the one definition of the schema: the Alembic migrations
must build exactly them, and the ORM classes must map onto them rather than define their own."""
from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from archive.schema import models as m
from archive.schema import schedule_models as sm
from archive.schema import tables as t
from archive.schema.db import open_engine


def core_only(name: str | None, type_: str, _parents: object) -> bool:
    """Schema comparisons leave out the search index, which is not a Core table (tables.SEARCH_INDEX)."""
    return not (type_ == "table" and (name or "").startswith(t.SEARCH_INDEX))


def test_migrations_build_exactly_the_core_tables(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'fresh.db'}", writer=True)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_name": core_only})
            assert compare_metadata(context, t.metadata) == []
    finally:
        engine.dispose()


def test_orm_classes_map_the_core_tables() -> None:
    assert m.Base.metadata is t.metadata
    mapped = {cls.__table__ for cls in (m.Article, m.ArticleURL, m.Body, m.Fetch, m.RenderStamp, m.Version, m.Event,
                                        m.SiteRule, m.TemplateParagraph, m.ChainRow, m.ChainTimestamp, sm.Schedule,
                                        sm.Tracked, sm.Run, m.SiteEdit, m.SiteEditMember, m.Screenshot)}
    # Core only: alerts, the screenshot marks, the per-site defaults (archive.store.sites)
    core_only = {t.alert_rules, t.alert_outbox, t.screenshot_wanted, t.sites}
    assert mapped | core_only == set(t.metadata.tables.values())
    assert m.Version.__mapper__.columns.keys() == t.versions.c.keys()


def test_the_store_keeps_due_times_current_and_the_upgrade_works_them_out_the_same(tmp_path: Path) -> None:
    """Tracking and a capture set each tracked URL's due time in their own transactions; an archive
    from before the frontier (revision 0006) gets the same due times when it is upgraded."""
    import sqlite3
    from datetime import timedelta

    from archive import queries
    from archive.capture import Capture, Extracted, Found
    from archive.clock import utcnow
    from archive.store.facade import Archive
    from archive.watch import schedules
    from tests.conftest import downgrade

    path = tmp_path / "old.db"
    engine = open_engine(f"sqlite:///{path}", writer=True)
    now = utcnow()
    urls = ["https://news.example/a/1", "https://news.example/a/2", "https://news.example/a/3"]
    try:
        schedules.add(engine, schedules.JobSpec(name="w", feeds=["https://news.example/feed"], recheck="1h:5m,1d"),
                      now)
        schedules.track(engine, "w", [Found(u, "feed") for u in urls], now)
        assert {d.reason for d in queries.due(engine, now=now)} == {"never fetched"}
        archive = Archive(engine)
        archive.record(Capture(urls[0], now - timedelta(minutes=3), status=200, body=b"<p>x</p>"),
                       Extracted("One paragraph of news text.", title="A", extractor="test"))
        archive.record(Capture(urls[1], now - timedelta(hours=2), status=200, body=b"<p>y</p>"),
                       Extracted("Another paragraph of news text.", title="B", extractor="test"))
        schedules.track(engine, "w", [Found(urls[1], "feed", now - timedelta(minutes=1))], now)
        got = {(d.url, d.due, d.reason.split(": ")[-1]) for d in queries.due(engine, now=now)}
        assert got == {(urls[0], now + timedelta(minutes=2), "every 5m"),  # checked 3 min ago, changed then
                       (urls[1], now, "listed as updated 1m ago, after the last check"),
                       (urls[2], now, "never fetched")}
    finally:
        engine.dispose()
    with sqlite3.connect(path) as conn:
        before = conn.execute("SELECT url, due_at, due_why FROM tracked ORDER BY url").fetchall()
    downgrade(str(path), "0006")  # back to the revision before the frontier: no due columns
    open_engine(f"sqlite:///{path}", writer=True).dispose()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT url, due_at, due_why FROM tracked ORDER BY url").fetchall() == before
    downgrade(str(path), "0008")  # before tracked.hint_seen: revision 0009 adds it and fills it
    with sqlite3.connect(path) as conn:
        assert "hint_seen" not in {row[1] for row in conn.execute("PRAGMA table_info(tracked)")}
    open_engine(f"sqlite:///{path}", writer=True).dispose()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT url, due_at, due_why FROM tracked ORDER BY url").fetchall() == before
        assert conn.execute("SELECT count(*) FROM tracked WHERE hint IS NOT NULL AND hint_seen IS NULL").fetchone() == (0,)


def test_the_upgrade_to_stated_ages_works_due_times_out_again_as_the_store_does(tmp_path: Path) -> None:
    """Due times stored before revision 0015 counted from the first capture: the upgrade works every
    tracked row out again with its frozen copy of the rule, to exactly what the live store keeps."""
    import sqlite3
    from datetime import timedelta

    from archive.capture import Capture, Extracted, Found
    from archive.clock import utcnow
    from archive.store.facade import Archive
    from archive.watch import schedules
    from tests.conftest import downgrade

    path = tmp_path / "stated.db"
    engine = open_engine(f"sqlite:///{path}", writer=True)
    now = utcnow()
    stated = {"https://news.example/old": ("2019-03-04", "2019-05-01T10:00:00Z"),
              "https://news.example/new": ((now - timedelta(days=3)).isoformat(), None),
              "https://news.example/ahead": ("2099-01-01", "not a date"),  # ignored: the first capture counts
              "https://news.example/none": (None, None)}
    try:
        schedules.add(engine, schedules.JobSpec(name="w", feeds=["https://news.example/feed"]), now)
        schedules.track(engine, "w", [Found(u, "feed") for u in [*stated, "https://news.example/never"]], now)
        archive = Archive(engine)
        for k, (url, (published, updated)) in enumerate(stated.items()):
            archive.record(Capture(url, now - timedelta(minutes=5), status=200, body=f"<p>{k}</p>".encode()),
                           Extracted(f"Paragraph {k} of the news, long enough to be an article. " * 8, title=url,
                                     extractor="test",
                                     published=published, updated=updated))
    finally:
        engine.dispose()
    with sqlite3.connect(path) as conn:
        before = conn.execute("SELECT url, due_at, due_why FROM tracked ORDER BY url").fetchall()
    assert {url: why for url, _, why in before} == {
        "https://news.example/old": "every 2w", "https://news.example/new": "every 1d",
        "https://news.example/ahead": "every 15m", "https://news.example/none": "every 15m",
        "https://news.example/never": "never fetched"}
    downgrade(str(path), "0013")  # the revision before 0015
    with sqlite3.connect(path) as conn:  # as stored before: every row says something else
        conn.execute("UPDATE tracked SET due_at = '2000-01-01 00:00:00.000000', due_why = 'every 15m'")
    open_engine(f"sqlite:///{path}", writer=True).dispose()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT url, due_at, due_why FROM tracked ORDER BY url").fetchall() == before
