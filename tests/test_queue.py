"""The crawl job queue on a real PostgreSQL: queueing locks, schema set-up, and real
``redline worker`` processes crawling a FakeSite, one of them killed with SIGKILL mid-batch.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from jobs.queue import RETRY, TASK, conninfo, enqueue, ensure_schema
from redline.fakesite import FakeSite, Story
from tests.conftest import FAST, invoke_json, published_now, run_redline
from tests.pg import pg_server, pg_url  # noqa: F401  (fixtures)

DEADLINE = 150  # seconds any one wait may take before the test fails; nothing asserts on speed


def _query(db_url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(conninfo(db_url), autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


def _wait_for(what: str, check: Callable[[], bool], procs: Sequence[subprocess.Popen[str]] = ()) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` if the deadline passes or a worker died."""
    deadline = time.monotonic() + DEADLINE
    while not check():
        for proc in procs:
            assert proc.poll() is None, f"worker exited with {proc.returncode} while waiting for {what}"
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


def _descendants(pid: int) -> list[int]:
    """Process ids below ``pid`` in the process tree (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, IndexError, ValueError):
            if entry.name.isdigit():
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        kids = [child for child, parent in parents.items() if parent in frontier]
        found += kids
        frontier = kids
    return found


def _alive(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False


# -- without workers ------------------------------------------------------------------------------

def test_queue_commands_refuse_sqlite_in_one_line(tmp_path: Path) -> None:
    db = str(tmp_path / "archive.db")
    for args in (["crawl", "--queue", "https://example.com/a"], ["worker"]):
        done = run_redline(db, *args)
        assert done.returncode == 1, done
        assert done.stderr.strip().count("\n") == 0 and "needs a PostgreSQL archive, not sqlite" in done.stderr
        assert "Traceback" not in done.stderr


def test_same_article_enqueued_twice_is_one_pending_job(pg_url: str, urls: list[str]) -> None:
    assert enqueue(pg_url, urls) == (len(urls), 0)
    # The same articles again, spelled differently: the queueing lock is the normalized key.
    variants = [url + "?utm_source=feed#top" for url in urls] + [urls[0].replace("http://", "HTTP://")]
    done = run_redline(pg_url, "crawl", "--queue", "--json", *variants)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"queued": 0, "skipped": len(urls) + 1}
    rows = _query(pg_url, "SELECT queueing_lock, args->>'url', status FROM procrastinate_jobs ORDER BY id")
    assert [(lock, url, status) for lock, url, status in rows] == [
        (url, url, "todo") for url in urls]  # fixture URLs are already in normal form


def test_schema_set_up_by_processes_starting_at_once(pg_url: str) -> None:
    code = "import sys; from jobs.queue import ensure_schema; ensure_schema(sys.argv[1])"
    procs = [subprocess.Popen([sys.executable, "-c", code, pg_url], stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    errors = [proc.communicate(timeout=120)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], errors
    ensure_schema(pg_url)  # and again, once everything exists
    tables = {name for (name,) in _query(pg_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"procrastinate_jobs", "procrastinate_workers", "alembic_version", "versions"} <= tables
    assert run_redline(pg_url, "list", "--json").returncode == 0  # the archive still opens beside the queue


def test_stalled_jobs_are_requeued_failed_or_left_alone(pg_url: str) -> None:
    from jobs.queue import make_app
    from jobs.worker import retry_stalled

    urls = [f"http://127.0.0.1/news/{name}" for name in ("plain", "covered", "exhausted", "live")]
    assert enqueue(pg_url, urls) == (4, 0)

    async def scenario() -> None:
        app = make_app(pg_url, min_size=1, max_size=2)
        async with app.open_async():
            manager = app.job_manager
            dead, live = await manager.register_worker(), await manager.register_worker()
            for worker_id in (dead, dead, dead, live):
                assert await manager.fetch_job(queues=None, worker_id=worker_id)
            enqueue(pg_url, urls[1:2])  # a newer job for "covered" waits
            _query(pg_url, "UPDATE procrastinate_jobs SET attempts = %s WHERE args->>'url' = %s", RETRY.max_attempts,
                   urls[2])
            _query(pg_url, "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour' "
                           "WHERE id = %s", dead)
            await retry_stalled(app, 30)
            await retry_stalled(app, 30)  # a second pass (another worker) changes nothing more

    asyncio.run(scenario())
    rows = _query(pg_url, "SELECT args->>'url', status::text, attempts FROM procrastinate_jobs ORDER BY id")
    assert [(url.rsplit("/", 1)[1], status, attempts) for url, status, attempts in rows] == [
        # Finishing a job counts its attempt too.
        ("plain", "todo", 1), ("covered", "failed", 1), ("exhausted", "failed", RETRY.max_attempts + 1),
        ("live", "doing", 0), ("covered", "todo", 0)]


# -- real workers ---------------------------------------------------------------------------------

@pytest.fixture
def many(site: FakeSite, stories: list[Story]) -> list[Story]:
    """Twelve distinct articles on the site: the fixture stories and renamed, reworded copies, stated as
    published now (so a policy's step for young articles applies to them)."""
    published_now(stories)
    extra = []
    for i in range(12 - len(stories)):
        src = stories[i % len(stories)]
        copy = replace(src, slug=f"{src.slug}-copy-{i}", title=f"{src.title} (copy {i})",
                       paragraphs=[f"Copy {i} of this report adds its own opening line about item {i}.",
                                   *src.paragraphs])
        site.add(copy)
        extra.append(copy)
    return stories + extra


@pytest.fixture
def workers(pg_url: str) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start ``redline worker`` processes with slow crawls; every one is killed at the end."""
    started: list[subprocess.Popen[str]] = []
    settings = {**FAST, "DOWNLOAD_DELAY": "0.4", "RANDOMIZE_DOWNLOAD_DELAY": "False"}

    def start(*options: str) -> subprocess.Popen[str]:
        args = [sys.executable, "-m", "redline", "--db", pg_url, "worker", "--concurrency", "4",
                "--batch-size", "4", "--batch-wait", "0.5", "--heartbeat", "1", *options]
        for name, value in settings.items():
            args += ["-s", f"{name}={value}"]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=60)


def test_failed_crawl_is_retried_unless_a_newer_job_for_the_article_waits(
        pg_url: str, workers: Callable[..., subprocess.Popen[str]]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts connections, never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/news/story"
        ensure_schema(pg_url)
        worker = workers("--concurrency", "1", "--batch-size", "1", "--crawl-timeout", "4")
        assert enqueue(pg_url, [url]) == (1, 0)
        _wait_for("the first job to start", lambda: _statuses(pg_url) == {"doing": 1}, [worker])
        assert enqueue(pg_url, [url]) == (1, 0)  # a running job does not hold the queueing lock
        jobs = "SELECT status::text, attempts FROM procrastinate_jobs ORDER BY id"
        # The first job's crawl times out; retrying it would clash with the waiting job's queueing
        # lock, so it fails for good after one attempt. The second then runs, fails, and is retried.
        _wait_for("the first job to fail and the second to be retried",
                  lambda: (rows := _query(pg_url, jobs))[0] == ("failed", 1) and rows[1][1] >= 1, [worker])
        assert _query(pg_url, jobs)[0] == ("failed", 1)


def test_sigterm_stops_the_crawl_and_requeues_its_job(
        pg_url: str, workers: Callable[..., subprocess.Popen[str]]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts connections, never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/news/story"
        ensure_schema(pg_url)
        worker = workers("--crawl-timeout", "120")
        assert enqueue(pg_url, [url]) == (1, 0)
        _wait_for("the crawl to start", lambda: _statuses(pg_url) == {"doing": 1} and bool(_descendants(worker.pid)),
                  [worker])
        crawls = _descendants(worker.pid)
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        assert not any(_alive(pid) for pid in crawls)
        # The crawl was cut short, so the job went back to the queue for another try.
        assert _query(pg_url, "SELECT status::text, attempts FROM procrastinate_jobs") == [("todo", 1)], err


def test_worker_deletes_finished_jobs_older_than_keep_hours(
        pg_url: str, urls: list[str], workers: Callable[..., subprocess.Popen[str]]) -> None:
    ensure_schema(pg_url)
    worker = workers("--keep-hours", "0")
    assert enqueue(pg_url, urls) == (len(urls), 0)
    _wait_for("the jobs to run", lambda: _versions(pg_url) == {url: [1] for url in urls}, [worker])
    _wait_for("the finished jobs to be deleted", lambda: not _query(pg_url, "SELECT id FROM procrastinate_jobs"),
              [worker])


def _fetches(db_url: str) -> dict[str, int]:
    """Fetches recorded per article key."""
    return dict(_query(db_url, "SELECT a.key, count(*) FROM fetches f JOIN articles a ON a.id = f.article_id "
                               "GROUP BY a.key"))


def _versions(db_url: str) -> dict[str, list[int]]:
    rows = _query(db_url, "SELECT a.key, v.number FROM versions v JOIN articles a ON a.id = v.article_id "
                          "ORDER BY a.key, v.number")
    found: dict[str, list[int]] = {}
    for key, number in rows:
        found.setdefault(key, []).append(number)
    return found


def _statuses(db_url: str) -> dict[str, int]:
    return dict(_query(db_url, "SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY 1"))


def _edit(story: Story, round_no: int) -> None:
    story.paragraphs[1] += f" Officials revised the account again in round {round_no}, citing new figures."


def test_workers_record_every_edit_once_even_when_one_is_killed_mid_batch(
        pg_url: str, site: FakeSite, many: list[Story], workers: Callable[..., subprocess.Popen[str]]) -> None:
    urls = [site.url(story.slug) for story in many]
    ensure_schema(pg_url)
    victim = workers()
    _wait_for("the first worker to register", lambda: bool(_query(pg_url, "SELECT id FROM procrastinate_workers")))
    (victim_id,), = _query(pg_url, "SELECT id FROM procrastinate_workers")
    survivor = workers()
    _wait_for("the second worker to register",
              lambda: len(_query(pg_url, "SELECT id FROM procrastinate_workers")) == 2, [victim])
    expected = dict.fromkeys(urls, 1)
    enqueued = 0

    def run_round(edited: list[Story], round_no: int) -> None:
        nonlocal enqueued
        for story in edited:
            _edit(story, round_no)
            expected[site.url(story.slug)] += 1
        assert enqueue(pg_url, urls) == (len(urls), 0)
        enqueued += len(urls)
        _wait_for(f"round {round_no} to finish", lambda: _statuses(pg_url) == {"succeeded": enqueued},
                  [victim, survivor])

    # Round 1 records every article; round 2 only the four edited ones, each once.
    run_round([], 1)
    run_round(many[:4], 2)
    assert _versions(pg_url) == {url: list(range(1, expected[url] + 1)) for url in urls}

    # Round 3: kill -9 the first worker while its crawl of a batch is running.
    for story in many[2:8]:
        _edit(story, 3)
        expected[site.url(story.slug)] += 1
    assert enqueue(pg_url, urls) == (len(urls), 0)
    enqueued += len(urls)
    held = "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing' AND worker_id = %s"
    _wait_for("the first worker to be crawling a batch",
              lambda: _query(pg_url, held, victim_id)[0][0] > 0 and bool(_descendants(victim.pid)), [victim, survivor])
    crawls = _descendants(victim.pid)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    _wait_for("the killed worker's crawl to die with it", lambda: not any(_alive(pid) for pid in crawls))
    _wait_for("round 3 to finish", lambda: _statuses(pg_url) == {"succeeded": enqueued}, [survivor])

    retried = _query(pg_url, "SELECT count(*) FROM procrastinate_jobs WHERE attempts > 0")[0][0]
    assert retried > 0, "no job of the killed worker was re-queued"
    assert _versions(pg_url) == {url: list(range(1, expected[url] + 1)) for url in urls}
    locks = _query(pg_url, "SELECT DISTINCT queueing_lock, task_name FROM procrastinate_jobs")
    assert sorted(locks) == sorted((url, TASK) for url in urls)
    assert invoke_json(pg_url, "verify")["ok"]  # nothing the kill interrupted altered the chain

    # SIGTERM stops the survivor cleanly, leaving no crawl behind.
    survivor.send_signal(signal.SIGTERM)
    _, err = survivor.communicate(timeout=120)
    assert survivor.returncode == 0, err


def test_scheduler_and_two_workers_record_every_edit_once_when_a_worker_is_killed(
        pg_url: str, site: FakeSite, many: list[Story], workers: Callable[..., subprocess.Popen[str]],
        tmp_path: Path) -> None:
    urls = [site.url(story.slug) for story in many]
    added = run_redline(pg_url, "schedule", "add", "watch", "--every", "2s", "--recheck", "1h:1s,1d", *urls)
    assert added.returncode == 0, added.stderr
    log = (tmp_path / "scheduler.log").open("w")
    scheduler = subprocess.Popen([sys.executable, "-m", "redline", "--db", pg_url, "scheduler", "--queue",
                                  "--sync-every", "1s"], stdout=log, stderr=subprocess.STDOUT)
    try:
        victim, survivor = workers(), workers()
        expected = dict.fromkeys(urls, 1)
        _wait_for("every article to be recorded", lambda: _versions(pg_url) == {u: [1] for u in urls},
                  [victim, survivor, scheduler])
        for story in many[:6]:
            _edit(story, 2)
            expected[site.url(story.slug)] += 1
        victim_id = _query(pg_url, "SELECT id FROM procrastinate_workers ORDER BY id LIMIT 1")[0][0]
        held = "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing' AND worker_id = %s"
        _wait_for("the first worker to be crawling", lambda: _query(pg_url, held, victim_id)[0][0] > 0
                  and bool(_descendants(victim.pid)), [victim, survivor, scheduler])
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        for story in many[6:]:
            _edit(story, 3)
            expected[site.url(story.slug)] += 1
        want = {url: list(range(1, expected[url] + 1)) for url in urls}
        _wait_for("every edit to be recorded", lambda: _versions(pg_url) == want, [survivor, scheduler])
        # More rounds re-fetch every page (recorded fetches, not elapsed time): unchanged pages add no version.
        fetched = _fetches(pg_url)
        _wait_for("every page to be re-fetched once more", lambda: all(
            n > fetched.get(url, 0) for url, n in _fetches(pg_url).items()) and len(_fetches(pg_url)) == len(urls),
            [survivor, scheduler])
        assert _versions(pg_url) == want
        scheduler.send_signal(signal.SIGTERM)
        assert scheduler.wait(timeout=60) == 0
        outcomes = {outcome for (outcome,) in _query(pg_url, "SELECT outcome FROM runs")}
        assert outcomes <= {"ok", "stopped"} and "ok" in outcomes
        assert invoke_json(pg_url, "verify")["ok"]  # nothing the kill interrupted altered the chain
    finally:
        if scheduler.poll() is None:
            scheduler.kill()
            scheduler.wait()
