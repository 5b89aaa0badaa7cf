"""The archive on PostgreSQL: migrations, real crawls, concurrent writers and the JSON views.

Each test gets a new database on one throwaway PostgreSQL 15 server (see
tests/pg.py). The server runs in a non-UTC time zone, so stored timestamps
must come back as the same UTC instants they went in as.
"""
from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, event, inspect, select, text
from sqlalchemy.dialects import postgresql

from tests.pg import skip_reason

if skip_reason():
    pytest.skip(skip_reason(), allow_module_level=True)

from archive import queries  # noqa: E402
from archive.capture import Capture, Extracted  # noqa: E402
from archive.errors import ArchiveError
from archive.schema import models as m  # noqa: E402
from archive.schema import tables
from archive.schema.db import HEAD_REVISION, current_revision, open_engine  # noqa: E402
from archive.store.facade import Archive  # noqa: E402
from redline.fakesite import FakeSite, Story  # noqa: E402
from tests.conftest import crawl, invoke_json  # noqa: E402
from tests.pg import pg_server, pg_url  # noqa: E402,F401  (fixtures)
from tests.test_queries import check_due_matches_policy  # noqa: E402
from tests.test_schema import core_only

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


# -- migrations ------------------------------------------------------------------------------------

def _schema(engine: Engine) -> dict[str, Any]:
    """Tables, columns, keys and indexes as reflected, in a form comparable across backends."""
    found: dict[str, Any] = {}
    with engine.connect() as conn:
        insp = inspect(conn)
        for table in sorted(n for n in insp.get_table_names() if not n.startswith(tables.SEARCH_INDEX)):
            found[table] = {
                "columns": [(c["name"], c["nullable"]) for c in insp.get_columns(table)],
                "primary_key": insp.get_pk_constraint(table)["constrained_columns"],
                "foreign_keys": sorted((tuple(fk["constrained_columns"]), fk["referred_table"],
                                        tuple(fk["referred_columns"])) for fk in insp.get_foreign_keys(table)),
                "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table)),
                "indexes": sorted((ix["name"], tuple(ix["column_names"]), bool(ix["unique"]))
                                  for ix in insp.get_indexes(table) if "duplicates_constraint" not in ix),
            }
    return found


def test_open_engine_migrates_an_empty_database_to_head(pg_url: str, tmp_path: Path) -> None:
    engine = open_engine(pg_url, writer=True)
    try:
        assert engine.dialect.name == "postgresql"
        assert current_revision(engine) == HEAD_REVISION
        pg = _schema(engine)
        with engine.connect() as conn:
            columns = {c["name"]: c["type"] for c in inspect(conn).get_columns("versions")}
            assert compare_metadata(MigrationContext.configure(conn, opts={"include_name": core_only}),
                                    tables.metadata) == []
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        engine.dispose()
    lite = open_engine(f"sqlite:///{tmp_path / 'same.db'}", writer=True)
    try:
        assert _schema(lite) == pg  # one migration, the same schema on both backends
    finally:
        lite.dispose()
    assert set(pg) == set(tables.metadata.tables) | {"alembic_version"}
    assert isinstance(columns["captured_at"], postgresql.TIMESTAMP) and columns["captured_at"].timezone
    assert isinstance(columns["text_blob"], postgresql.BYTEA)
    assert isinstance(columns["paragraph_hashes"], postgresql.JSON)


def test_opening_a_current_database_again_changes_nothing(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    open_engine(pg_url, writer=True).dispose()
    import alembic.command

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("Alembic ran on a database already at head")

    monkeypatch.setattr(alembic.command, "upgrade", refuse)
    statements: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", note)
    try:
        open_engine(pg_url, writer=True, must_exist=True).dispose()  # checked once per process: no query
        assert statements == []
        import archive.schema.db

        monkeypatch.setattr(archive.schema.db, "_current", set())  # as a new process: the check only reads
        engine = open_engine(pg_url, writer=True, must_exist=True)
    finally:
        event.remove(Engine, "before_cursor_execute", note)
    try:
        assert current_revision(engine) == HEAD_REVISION
    finally:
        engine.dispose()
    assert statements and all(s.lstrip().upper().startswith("SELECT") for s in statements), statements


def test_foreign_tables_are_refused(pg_server: Any, pg_url: str) -> None:
    database = pg_url.rsplit("/", 1)[1]
    with pg_server.connect(database) as conn:
        conn.execute("CREATE TABLE unrelated (id integer)")
    with pytest.raises(ArchiveError, match="no Redline schema"):
        open_engine(pg_url)


# -- real crawls -----------------------------------------------------------------------------------

def test_crawl_recrawl_and_edit_into_postgres(pg_url: str, urls: list[str], stories: list[Story]) -> None:
    first = crawl(pg_url, *urls)
    assert first["fetched"] == 5 and first["new_articles"] == 5 and first["failed"] == 0, first
    again = crawl(pg_url, *urls)
    assert again["unchanged"] == 5 and again["new_versions"] == 0, again
    stories[0].paragraphs[0] = stories[0].paragraphs[0].replace("Wednesday", "Thursday")
    edited = crawl(pg_url, *urls)
    assert edited["new_versions"] == 1 and edited["unchanged"] == 4, edited
    diff = invoke_json(pg_url, "diff", urls[0])
    assert diff["changes"] == [{"op": "replace", "old": "Wednesday", "new": "Thursday"}]
    assert (diff["from"], diff["to"]) == (1, 2)
    assert [e["version"] for e in invoke_json(pg_url, "log", urls[0]) if "version" in e] == [1, 2]
    listed = invoke_json(pg_url, "list")
    assert sorted(a["url"] for a in listed) == sorted(urls)
    assert sorted(a["versions"] for a in listed) == [1, 1, 1, 1, 2]
    engine = open_engine(pg_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM fetches")).scalar() == 15
            assert conn.execute(text("SELECT count(*) FROM versions")).scalar() == 6
    finally:
        engine.dispose()


# -- concurrent writers ----------------------------------------------------------------------------

ARTICLE = "https://news.example/local/harbour-vote"
T0 = datetime(2024, 12, 5, 12, 0, tzinfo=UTC)


def _capture(n: int) -> tuple[Capture, Extracted]:
    """Capture ``n`` of the article: at least 30 words, and different from every other capture."""
    body = (f"The city council met on the evening of session {n} to debate the harbour plan. Members voted "
            f"{n} times on amendments covering funding, dredging, traffic, housing, schools and parks.\n\n"
            "Officials said public consultation on the timetable would begin before the final decision "
            "was taken by the full council next spring.")
    fetch = Capture(ARTICLE, T0 + timedelta(minutes=n), final_url=ARTICLE, status=200,
                  body=f"<html><body>{body}</body></html>".encode(), content_type="text/html; charset=utf-8")
    return fetch, Extracted(body, title="Council votes on harbour plan", byline="Staff reporter",
                            extractor="test")


def test_concurrent_writers_never_duplicate_or_skip_version_numbers(pg_url: str) -> None:
    writers, rounds = 3, 6
    seed = Archive(open_engine(pg_url, writer=True))
    try:
        assert seed.record(*_capture(0)).kind == "new-article"
    finally:
        seed.engine.dispose()
    archives = [Archive(open_engine(pg_url, writer=True)) for _ in range(writers)]
    watcher = open_engine(pg_url)
    # The first writer to commit in each round holds its transaction open (and the locks it took) until
    # the database shows every other writer waiting on a lock: they have read the article and are
    # queued behind it. Each round records whether that happened.
    lock, rounds_seen, queued = threading.Lock(), set(), []
    mine = threading.local()

    def waiting_on_locks() -> int:
        with watcher.connect() as conn:
            return conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND wait_event_type = 'Lock'"))

    def hold_first_commit(conn: Any) -> None:
        with lock:
            first = mine.round not in rounds_seen
            rounds_seen.add(mine.round)
        if first:
            deadline = time.monotonic() + 30
            while waiting_on_locks() < writers - 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            queued.append(waiting_on_locks() >= writers - 1)

    for archive in archives:
        event.listen(archive.engine, "commit", hold_first_commit)
    barrier = threading.Barrier(writers, timeout=60)
    results: dict[int, Any] = {}
    errors: list[BaseException] = []

    def write(w: int) -> None:
        try:
            for r in range(rounds):
                n = 1 + r * writers + w
                barrier.wait()
                mine.round = r
                results[n] = archives[w].record(*_capture(n))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=write, args=(w,), daemon=True) for w in range(writers)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "writers hung"
    finally:
        for archive in archives:
            archive.engine.dispose()
        watcher.dispose()
    assert not [e for e in errors if not isinstance(e, threading.BrokenBarrierError)], errors
    assert not errors, errors
    assert queued == [True] * rounds, f"rounds in which the other writers were queued on the lock: {queued}"
    total = 1 + writers * rounds
    assert sorted(o.kind for o in results.values()) == ["new-version"] * (total - 1)
    assert sorted(o.version for o in results.values()) == list(range(2, total + 1))
    engine = open_engine(pg_url)
    try:
        with engine.connect() as conn:
            numbers = conn.execute(select(m.Version.number).order_by(m.Version.number)).scalars().all()
            count = conn.execute(select(m.Article.version_count)).scalar_one()
    finally:
        engine.dispose()
    assert numbers == list(range(1, total + 1)) and count == total
    for n, outcome in results.items():  # each version holds the text of the capture that made it
        shown = invoke_json(pg_url, "show", ARTICLE, "--version", str(outcome.version))
        assert shown["text"] == _capture(n)[1].text
        assert shown["captured_at"] == (T0 + timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _race(url: str, writers: int, work: Any, meet_at: str) -> dict[int, Any]:
    """Run ``work(archive, i)`` in ``writers`` threads, each with its own engine, holding every writer
    just before its first statement starting with ``meet_at`` until all have got there: so each has
    looked for the row and not found it before any inserts it (the test fails when they never all got
    there). Returns each writer's result or exception."""
    archives = [Archive(open_engine(url, writer=True)) for _ in range(writers)]
    meeting, met = threading.Barrier(writers, timeout=30), []

    def wait_for_the_others(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(meet_at) and not conn.info.get("met"):
            conn.info["met"] = True
            try:
                meeting.wait()
                met.append(True)
            except threading.BrokenBarrierError:
                met.append(False)

    results: dict[int, Any] = {}

    def run(i: int) -> None:
        try:
            results[i] = work(archives[i], i)
        except Exception as exc:  # noqa: BLE001 - returned to the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(writers)]
    try:
        for archive in archives:
            event.listen(archive.engine, "before_cursor_execute", wait_for_the_others)
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads), "writers hung"
    finally:
        for archive in archives:
            archive.engine.dispose()
    assert met == [True] * writers, f"the writers never all reached {meet_at}: no race happened"
    return results


def test_two_writers_creating_the_same_article_at_once(pg_url: str) -> None:
    open_engine(pg_url).dispose()
    results = _race(pg_url, 2, lambda archive, i: archive.record(*_capture(i + 1)), "INSERT INTO ARTICLES")
    assert not [r for r in results.values() if isinstance(r, Exception)], results
    assert sorted(r.kind for r in results.values()) == ["new-article", "new-version"]
    assert sorted(r.version for r in results.values()) == [1, 2]


def test_two_writers_storing_the_same_body_at_once(pg_url: str) -> None:
    open_engine(pg_url).dispose()

    def record(archive: Archive, i: int) -> Any:
        fetch, extracted = _capture(1)  # byte-identical bodies, two different articles
        fetch.url = fetch.final_url = f"{ARTICLE}-{i}"
        return archive.record(fetch, extracted)

    results = _race(pg_url, 2, record, "INSERT INTO BODIES")
    assert not [r for r in results.values() if isinstance(r, Exception)], results
    assert [r.kind for r in results.values()] == ["new-article", "new-article"]


OPEN_WHEN_ALL_ARRIVE = """
import sys, time
from pathlib import Path
from sqlalchemy import Engine, event
from archive.schema.db import open_engine

meeting, writers = Path(sys.argv[2]), int(sys.argv[3])

@event.listens_for(Engine, "before_cursor_execute")
def wait_for_the_others(conn, cursor, statement, *args):
    if statement.lstrip().upper().startswith("CREATE TABLE") and not conn.info.get("met"):
        conn.info["met"] = True
        (meeting / str(id(conn))).touch()
        deadline = time.monotonic() + 3
        while len(list(meeting.iterdir())) < writers and time.monotonic() < deadline:
            time.sleep(0.02)

open_engine(sys.argv[1], writer=True).dispose()
"""


def test_processes_opening_an_empty_database_at_once(pg_url: str, tmp_path: Path) -> None:
    # Each process waits (at most 3 s) before its first CREATE TABLE until all have got there, so
    # all have found no schema before any creates it.
    writers = 3
    root = Path(__file__).resolve().parents[1]
    procs = [subprocess.Popen([sys.executable, "-c", OPEN_WHEN_ALL_ARRIVE, pg_url, str(tmp_path), str(writers)],
                              cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(writers)]
    errors = []
    for proc in procs:
        try:
            _, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        if proc.returncode:
            errors.append([line for line in err.splitlines() if "Error" in line][-1:] or err[-500:])
    assert not errors, errors
    engine = open_engine(pg_url)
    try:
        assert current_revision(engine) == HEAD_REVISION
    finally:
        engine.dispose()


# -- JSON views ------------------------------------------------------------------------------------

def _shape(value: Any) -> Any:
    """The JSON with every timestamp checked and replaced by a placeholder."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    if isinstance(value, str) and value[:4].isdigit() and "T" in value and len(value) == 20:
        assert ISO_Z.match(value), value
        return "<timestamp>"
    return value


def _timestamps(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in (_timestamps(v) if not isinstance(v, str) else
                                                        [v] if k in TIME_KEYS and v else [])]
    if isinstance(value, list):
        return [t for v in value for t in _timestamps(v)]
    return []


TIME_KEYS = {"first_seen", "last_checked", "last_changed", "captured_at", "at", "from_captured_at",
             "to_captured_at"}


# Words and phrases searched on both stores: a body phrase (both versions), only the newer version's,
# one no longer said (none), a headline word with accents and case, the same with --removed.
SEARCHES = [("Comprehensive Strategic Partnership Treaty",), ("further talks",), ("PYONGYANG next year",),
            ("further talks", "--removed"), ("treaty",)]


def test_json_views_match_sqlite(pg_url: str, db: str, site: FakeSite, urls: list[str],
                                 stories: list[Story]) -> None:
    site.frozen = True  # the same bytes for both archives, so the same texts
    started = datetime.now(UTC).replace(microsecond=0)
    for archive in (db, pg_url):
        crawl(archive, *urls)
    stories[2].paragraphs.insert(5, "The ministry added that further talks would be held in Pyongyang next year.")
    for archive in (db, pg_url):
        assert crawl(archive, *urls)["new_versions"] == 1
    finished = datetime.now(UTC) + timedelta(seconds=1)
    views: dict[str, dict[str, Any]] = {}
    for name, archive in (("sqlite", db), ("postgresql", pg_url)):
        views[name] = {
            "list": sorted(invoke_json(archive, "list"), key=lambda a: a["url"]),
            "log": {u: invoke_json(archive, "log", u) for u in urls},
            "show": {u: invoke_json(archive, "show", u) for u in urls},
            "show v1": invoke_json(archive, "show", urls[2], "--version", "1"),
            "diff": invoke_json(archive, "diff", urls[2]),
            "stealth": invoke_json(archive, "log", urls[2], "--stealth"),
            "declared": invoke_json(archive, "log", urls[2], "--declared"),
            "search": {" ".join(q): sorted(invoke_json(archive, "search", *q), key=lambda h: (h["url"], h["version"]))
                       for q in SEARCHES},  # newest recorded first: the two crawls recorded in their own order
        }
    pg = views["postgresql"]
    assert _shape(pg) == _shape(views["sqlite"])
    stamps = _timestamps(pg)
    assert len(stamps) > 20 and all(ISO_Z.match(s) for s in stamps), stamps
    for stamp in stamps:  # real UTC instants despite the server's +05:30 zone
        assert started <= datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) <= finished, stamp
    assert [a["versions"] for a in pg["list"]] == [2 if a["url"] == urls[2] else 1 for a in pg["list"]]
    assert [c["op"] for c in pg["diff"]["changes"]] == ["insert"]
    entry = pg["log"][urls[2]][-1]
    assert entry["version"] == 2 and entry["change"]["kinds"] == ["paragraph-added"]
    assert pg["stealth"] == [entry] and pg["declared"] == []
    found = {q: [(urls.index(h["url"]), h["version"]) for h in hits] for q, hits in pg["search"].items()}
    assert found["further talks"] == found["PYONGYANG next year"] == [(2, 2)] and found["further talks --removed"] == []
    assert len(found["Comprehensive Strategic Partnership Treaty"]) >= 2 and len(found["treaty"]) >= 5
    engine = open_engine(pg_url)
    try:
        check_due_matches_policy(engine, urls)  # due times computed in PostgreSQL's SQL, too
    finally:
        engine.dispose()


def test_one_sentence_added_to_stories_at_many_urls_is_recorded_in_every_copy(pg_url: str) -> None:
    """Issue 11's PostgreSQL run: 10 stories, each at 4 URLs of one host; 5 stories (20 URLs) get the same
    sentence in one crawl. Near-identical copies are one witness, so nothing is learned as template."""
    from copy import deepcopy as clone

    from redline.fakesite import load_stories

    site = FakeSite().start()
    try:
        base = load_stories()
        copies = []
        for k in range(10):
            story = clone(base[k % len(base)])
            story.paragraphs = story.paragraphs[k // len(base)::2]  # ten distinct bodies from five stories
            for edition in range(4):
                copy = clone(story)
                copy.slug = f"story-{k}-edition-{edition}"
                copies.append(copy)
        urls = [site.add(copy) for copy in copies]
        crawl(pg_url, *urls, settings={"REDLINE_BATCH_SIZE": "50"})
        edited = [c for c in copies if int(c.slug.split("-")[1]) < 5]
        for copy in edited:
            copy.paragraphs.append("The death toll has risen to 45, officials said on Thursday evening.")
        summary = crawl(pg_url, *urls, settings={"REDLINE_BATCH_SIZE": "50"})
    finally:
        site.stop()
    assert summary["new_versions"] == len(edited) == 20, summary
    assert invoke_json(pg_url, "ignore", "list", "--learned") == []


def test_web_view_reads_postgresql_and_cannot_write_it(pg_url: str, site: FakeSite, urls: list[str],
                                                        stories: list[Story], monkeypatch: pytest.MonkeyPatch) -> None:
    """``redline serve`` on PostgreSQL: the cross-archive changes query, filters, pages and feeds, and the
    engine the command hands its app refuses writes."""
    from tests.conftest import start_serve
    from tests.test_serve import served_app, write_is_refused
    from tests.test_web import get

    crawl(pg_url, *urls)
    stories[2].title += " (updated)"
    stories[2].updated = "2024-12-06T10:00:00Z"
    assert crawl(pg_url, *urls)["new_versions"] == 1
    engine = open_engine(pg_url)
    with engine.connect() as conn:
        key = conn.execute(select(tables.articles.c.key).where(tables.articles.c.version_count == 2)).scalar_one()
        edited = queries.short_id(conn, queries.article(conn, key))  # the permalinks' /a/ID
        others = [queries.short_id(conn, queries.article(conn, u)) for u in urls if u != key]
    engine.dispose()
    server, line = start_serve(pg_url)
    try:
        base = re.search(r"http://\S+/", line).group(0).rstrip("/")
        for path, needle in (("/", f"/a/{edited}/diff/1/2"), ("/?kind=headline&only=declared", "(updated)"),
                             ("/?q=%28UPDATED%29", f"/a/{edited}/diff/1/2"), ("/articles?status=live", f"/a/{edited}"),
                             (f"/a/{edited}", "declared"), (f"/a/{edited}/v/2", "Raw body sha256"),
                             (f"/a/{edited}/diff/1/2", "{+</span>(updated)"), ("/feed.atom", f"/a/{edited}/diff/1/2")):
            status, _, body = get(base + path)
            assert status == 200 and needle in body.decode(), path
        live = get(base + "/articles?status=live")[2].decode()
        assert all(f'href="/a/{short}"' in live for short in others), "every live article is listed"
        assert "/a/" not in get(base + "/articles?status=gone")[2].decode().split("<main", 1)[-1]
        status, _, body = get(base + "/?kind=correction")
        assert status == 200 and "No changes match." in body.decode()
        site.set_status(stories[0].slug, 410)  # a takedown: the changes query's union of versions and events
        assert crawl(pg_url, *urls)["gone"] == 1
        taken = others[[u for u in urls if u != key].index(urls[0])]
        for path in ("/?kind=gone", "/feed.atom?kind=gone"):
            status, _, body = get(base + path)
            assert status == 200 and f"/a/{taken}" in body.decode() and "/diff/" not in body.decode(), path
        both = get(base + "/?limit=2&kind=gone&kind=headline")[2].decode()  # a page of the union, newest first
        assert both.index(f'href="/a/{taken}"') < both.index(f"/a/{edited}/diff/1/2")
    finally:
        server.terminate()
        server.wait(30)
    app = served_app(pg_url, monkeypatch)
    try:
        assert "read-only transaction" in write_is_refused(app)
    finally:
        app.state.engine.dispose()
