"""Scheduled jobs: the real scheduler, real runs in child processes, a loopback site that changes."""
from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from jobs.triggers import WallClockCron, first_run, zone
from redline.fakesite import FakeSite
from tests.conftest import FAST, crawl, invoke, invoke_json, published_now, run_redline

FAST_ARGS = [arg for name, value in FAST.items() for arg in ("-s", f"{name}={value}")]


@pytest.fixture
def site(site: FakeSite) -> FakeSite:
    """The fixture stories, stated as published now: these tests watch re-checks of young articles, and
    the 2024 dates the fixtures state would put every story on the slow end of its policy."""
    published_now(route.story for route in site.routes.values() if route.story)
    return site


def add_job(db: str, name: str, *args: str) -> None:
    done = run_redline(db, "schedule", "add", name, *args, *FAST_ARGS)
    assert done.returncode == 0, done.stderr


def wait_for(check: Callable[[], Any], timeout: float = 90, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def runs_of(db: str) -> list[dict[str, Any]]:
    return list(reversed(invoke_json(db, "runs", "--limit", "1000")))


def versions(db: str, url: str) -> list[int]:
    return [entry["version"] for entry in invoke_json(db, "log", url) if "version" in entry]


class SchedulerProcess:
    """``redline scheduler`` in a child process, stopped with SIGTERM like a service manager would."""

    def __init__(self, db: str, log: Path, *args: str) -> None:
        self.log = log
        with log.open("a") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "redline", "--db", db, "scheduler", "--sync-every",
                                          "1s", *args], stdout=out, stderr=subprocess.STDOUT)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def scheduler(db: str, tmp_path: Path) -> Iterator[Callable[..., SchedulerProcess]]:
    started: list[SchedulerProcess] = []

    def start(*args: str) -> SchedulerProcess:
        started.append(SchedulerProcess(db, tmp_path / "scheduler.log", *args))
        return started[-1]

    yield start
    for proc in started:
        proc.kill()


# -- commands -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--every", "5m", "--cron", "* * * * *"], "exactly one of"),
    ([], "exactly one of"),
    (["--every", "5x"], "bad duration '5x'"),
    (["--every", "5m", "--tz", "Europe/Berlin"], "--tz applies to --cron only"),
    (["--cron", "61 * * * *"], "bad cron expression"),
    (["--cron", "0 * * * *", "--tz", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
    (["--every", "5m", "--recheck", "1h:5m"], "bad re-check policy"),
    (["--every", "5m", "ftp://example.com/x"], "not an http(s) URL"),
    (["--every", "5m", "--urls-file", "/nonexistent/list.txt"], "URL file /nonexistent/list.txt does not exist"),
])
def test_schedule_add_rejects_bad_input_in_one_line(db: str, args: list[str], message: str) -> None:
    if not any(a.startswith(("http", "ftp")) or a == "--urls-file" for a in args):
        args = [*args, "https://example.com/a"]
    done = run_redline(db, "schedule", "add", "job", *args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_schedule_lifecycle_add_list_pause_resume_remove(db: str, tmp_path: Path) -> None:
    listing = tmp_path / "watch.txt"
    listing.write_text("# newsroom list\nhttps://example.com/a\n\nhttps://example.com/b\n")
    add_job(db, "berlin", "--cron", "*/15 6-23 * * *", "--tz", "Europe/Berlin", "--feed", "https://example.com/rss",
            "--sitemap", "https://example.com/news.xml", "--urls-file", str(listing), "--recheck", "2h:10m,30d")
    add_job(db, "hourly", "--every", "1h", "https://example.com/c")
    assert run_redline(db, "schedule", "add", "hourly", "--every", "5m", "https://example.com/d").returncode == 1

    jobs = {job["name"]: job for job in invoke_json(db, "schedule", "list")}
    assert jobs["berlin"]["cron"] == "*/15 6-23 * * *" and jobs["berlin"]["timezone"] == "Europe/Berlin"
    assert jobs["berlin"]["recheck"] == "2h:10m,30d" and jobs["berlin"]["urls_file"] == str(listing)
    assert jobs["hourly"]["every_seconds"] == 3600 and jobs["hourly"]["next_run"] is not None
    berlin_next = datetime.fromisoformat(jobs["berlin"]["next_run"]).astimezone(zone("Europe/Berlin"))
    assert berlin_next.minute % 15 == 0 and 6 <= berlin_next.hour <= 23

    assert invoke(db, "schedule", "pause", "hourly").exit_code == 0
    assert {j["name"]: j["paused"] for j in invoke_json(db, "schedule", "list")} == {"berlin": False, "hourly": True}
    assert invoke(db, "schedule", "resume", "hourly").exit_code == 0
    assert invoke(db, "schedule", "remove", "berlin").exit_code == 0
    assert [j["name"] for j in invoke_json(db, "schedule", "list")] == ["hourly"]
    missing = run_redline(db, "schedule", "pause", "berlin")
    assert missing.returncode == 1 and "no schedule named 'berlin'" in missing.stderr


def test_schedule_edit_keeps_tracked_urls_and_alert_rules_and_remove_says_what_it_drops(db: str,
                                                                                       urls: list[str]) -> None:
    from archive.capture import Found
    from archive.schema.db import database_url, open_engine
    from archive.watch.schedules import track

    crawl(db, *urls)  # archived articles: their due times follow the re-check policy
    add_job(db, "world", "--every", "1h", "--feed", "https://example.com/rss", "https://example.com/a")
    engine = open_engine(database_url(db), writer=True, must_exist=True)
    track(engine, "world", [Found(u, "feed") for u in [*urls, "https://example.com/news/1", "https://example.com/news/2"]],
          datetime.now(UTC))
    engine.dispose()
    assert invoke(db, "alert", "add", "desk", "--to", "json://127.0.0.1:9/hook", "--job", "world").exit_code == 0
    due_before = {e["url"]: (e["due"], e["reason"]) for e in invoke_json(db, "due")}

    edited = invoke(db, "schedule", "edit", "world", "--cron", "*/15 * * * *", "--tz", "Europe/Berlin",
                    "--feed", "https://example.com/europe.xml", "--remove-feed", "https://example.com/rss",
                    "--recheck", "1d:1m,30d", "--pause")
    assert edited.exit_code == 0, edited.output
    [job] = invoke_json(db, "schedule", "list")
    assert (job["every_seconds"], job["cron"], job["timezone"]) == (None, "*/15 * * * *", "Europe/Berlin")
    assert job["feeds"] == ["https://example.com/europe.xml"] and job["urls"] == ["https://example.com/a"]
    assert job["recheck"] == "1d:1m,30d" and job["paused"] is True and job["tracked"] == 7
    assert [r["name"] for r in invoke_json(db, "alert", "list")] == ["desk"]
    due_after = {e["url"]: (e["due"], e["reason"]) for e in invoke_json(db, "due")}
    assert due_after.keys() == due_before.keys() and len(due_after) == 7
    def settled(reason: str) -> str:  # the age in a reason ticks between the two reads
        return re.sub(r"\d+[ydhms] ago", "… ago", reason)

    assert {u: settled(due_after[u][1]) for u in urls} == {
        u: settled(due_before[u][1]).replace("every 15m", "every 1m") for u in urls}

    # README's exit status: 1 for a feed the job does not have (it names what does not exist), 2 for a malformed line
    refused = [(("--remove-feed", "https://example.com/none"), "has no feed https://example.com/none", 1),
               (("--cron", "not a cron"), "cron", 2), (("--every", "1h", "--tz", "UTC"), "--tz applies", 2)]
    for bad, message, code in refused:
        done = run_redline(db, "schedule", "edit", "world", *bad)
        assert done.returncode == code and message in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
    assert invoke_json(db, "schedule", "list") == [job]  # a refused edit stores nothing

    removed = run_redline(db, "schedule", "remove", "world")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.strip() == "removed schedule world and its 7 tracked URL(s); removed alert rules desk"
    assert invoke_json(db, "alert", "list") == [] and invoke_json(db, "schedule", "list") == []


def test_schedule_remove_asks_on_a_terminal(db: str) -> None:
    import pty

    add_job(db, "world", "--every", "1h", "https://example.com/a")
    for answer, code, left in ((b"n\n", 1, ["world"]), (b"y\n", 0, [])):
        leader, follower = pty.openpty()
        proc = subprocess.Popen([sys.executable, "-m", "redline", "--db", db, "schedule", "remove", "world"],
                                stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.close(follower)
        os.write(leader, answer)
        out, _ = proc.communicate(timeout=120)
        os.close(leader)
        assert proc.returncode == code, out
        assert [j["name"] for j in invoke_json(db, "schedule", "list")] == left
    assert b"remove schedule world with its 0 tracked URL(s)?" in out


# -- runs ---------------------------------------------------------------------------------------------

def test_scheduler_runs_jobs_restarts_with_them_and_coalesces_missed_runs(
        db: str, site: FakeSite, urls: list[str], scheduler: Callable[..., SchedulerProcess]) -> None:
    from redline.fakesite import Route

    site.routes["/rss.xml"] = Route(body=rss([(urls[1], "Thu, 05 Dec 2024 09:00:00 GMT")]),
                                    content_type="application/rss+xml")
    add_job(db, "watch", "--every", "10s", "--recheck", "1h:1s,1d", "--feed", site.url("rss.xml"), urls[0])
    first = scheduler()
    wait_for(lambda: [r for r in runs_of(db) if r["outcome"] == "ok"], what="a finished run")
    story = site.story(urls[0].split("/", 3)[3])
    story.paragraphs.append("Correction: an earlier version of this article misstated the date of the treaty.")
    site.routes["/rss.xml"].body = rss([(urls[2], "Thu, 05 Dec 2024 10:00:00 GMT")])
    wait_for(lambda: versions(db, urls[0]) == [1, 2], what="the edit to be recorded")
    wait_for(lambda: len(invoke_json(db, "list")) == 3, what="the new feed entry to be archived")
    assert first.stop() == 0
    assert all(r["outcome"] in ("ok", "stopped") for r in runs_of(db))
    assert "scheduler stopped" in first.log.read_text()

    before = len(runs_of(db))
    last = datetime.fromisoformat(runs_of(db)[-1]["started"])
    wait_for(lambda: datetime.now(UTC) > last + timedelta(seconds=21), what="two regular runs to be missed")
    restarted = scheduler()
    wait_for(lambda: len(runs_of(db)) >= before + 2, what="two runs after restart")
    catch_up, regular = (datetime.fromisoformat(r["started"]) for r in runs_of(db)[before:before + 2])
    # The restarted scheduler's own record of its plan: the missed run is due at the moment it scheduled
    # the job (logged with the log line's time), not an interval later.
    logged = [line for line in first.log.read_text().splitlines() if "job watch scheduled" in line][-1]
    planned = datetime.fromisoformat(logged.rsplit("next run ", 1)[1])
    written = datetime.strptime(logged[:23], "%Y-%m-%d %H:%M:%S,%f").astimezone(UTC)
    assert planned <= written, f"a missed run happens on restart, not an interval later: {logged}"
    assert planned <= catch_up, "the catch-up run is the planned one"
    assert regular - catch_up >= timedelta(seconds=8), "missed runs coalesce into one, then the interval resumes"
    assert restarted.stop() == 0
    assert versions(db, urls[0]) == [1, 2] and versions(db, urls[1]) == [1] and versions(db, urls[2]) == [1]
    assert {r["job"] for r in runs_of(db)} == {"watch"}


def test_killed_run_loses_nothing_and_the_next_run_completes(
        db: str, site: FakeSite, urls: list[str], scheduler: Callable[..., SchedulerProcess]) -> None:
    add_job(db, "watch", "--every", "1s", "--recheck", "1h:1s,1d", "-s", "CONCURRENT_REQUESTS=1",
            "-s", "REDLINE_BATCH_SIZE=1", *urls)
    done = run_redline(db, "schedule", "run", "watch", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["new_articles"] == 5
    for n, story in enumerate(route.story for route in site.routes.values() if route.story):
        story.paragraphs[1] += f" Edit number {n} was made after publication."
    site.delay = 0.7
    hits_before = sum(1 for entry in list(site.log) if entry["path"] != "/robots.txt")
    proc = scheduler()
    wait_for(lambda: sum(1 for entry in list(site.log) if entry["path"] != "/robots.txt") >= hits_before + 2,
             what="the run to be midway")
    running = wait_for(lambda: [r for r in runs_of(db) if r["outcome"] == "running"], what="a running run")
    pid = sqlite3.connect(db).execute("SELECT pid FROM runs WHERE id = ?", (running[0]["id"],)).fetchone()[0]
    os.killpg(pid, signal.SIGKILL)
    wait_for(lambda: any(r["outcome"] == "killed" for r in runs_of(db)), what="the run to be marked killed")
    site.delay = 0
    wait_for(lambda: all(versions(db, u) == [1, 2] for u in urls), what="every edit recorded")
    wait_for(lambda: _ok_after_killed([r["outcome"] for r in runs_of(db)]), what="a run after the killed one to finish")
    assert proc.stop() == 0
    assert invoke_json(db, "verify")["ok"]  # nothing the kill interrupted altered the chain
    assert all(versions(db, u) == [1, 2] for u in urls), "each edit is recorded exactly once"
    check = sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0]
    assert check == "ok"
    outcomes = [r["outcome"] for r in runs_of(db)]
    assert "killed" in outcomes and outcomes.count("ok") >= 2


def _ok_after_killed(outcomes: list[str]) -> bool:
    return "killed" in outcomes and "ok" in outcomes[outcomes.index("killed"):]


def test_due_shows_what_is_due_and_why(db: str, site: FakeSite, urls: list[str]) -> None:
    add_job(db, "slow", "--every", "1h", *urls[:2])
    assert invoke_json(db, "due") == []  # nothing is tracked before the first run
    assert run_redline(db, "schedule", "run", "slow").returncode == 0
    due = invoke_json(db, "due", "slow")
    assert [d["url"] for d in due] and all(not d["due_now"] for d in due)
    assert all("every 15m" in d["reason"] for d in due), due
    missing = run_redline(db, "due", "nope")
    assert missing.returncode == 1 and "no schedule named 'nope'" in missing.stderr


def test_due_counts_age_from_the_published_time_the_page_states(db: str, site: FakeSite, urls: list[str]) -> None:
    """Found by a run: a story stating 2019 is on the slow end of the policy, one stating today on the fast
    end, both with their reason; an edit Redline observes afterwards resets the clock."""
    picked = urls[2:4]  # slugs without a date: htmldate reads one in a URL as an update
    old = picked[0].split("/", 3)[3]
    site.story(old).published = "2019-03-04"  # date-only, as many pages state it
    site.story(old).updated = "2019-05-01T10:00:00Z"  # the later of the two counts
    add_job(db, "ages", "--every", "1h", *picked)
    assert run_job(db, "ages")["fetched"] == 2
    due = {d["url"]: d for d in invoke_json(db, "due", "ages")}

    def interval(entry: dict[str, Any]) -> timedelta:
        return datetime.fromisoformat(entry["due"]) - datetime.fromisoformat(entry["last_checked"])

    years = (datetime.now(UTC) - datetime(2019, 5, 1, 10, tzinfo=UTC)).days // 365
    assert due[picked[0]]["reason"] == f"updated {years}y ago: every 2w", due
    assert interval(due[picked[0]]) == timedelta(days=14) and not due[picked[0]]["due_now"]
    assert due[picked[1]]["reason"].startswith("published ") and due[picked[1]]["reason"].endswith(" ago: every 15m")
    assert interval(due[picked[1]]) == timedelta(minutes=15)

    site.story(old).paragraphs.append("Correction: an earlier version of this story misstated the year.")
    assert crawl(db, picked[0])["new_versions"] == 1
    [edited] = [d for d in invoke_json(db, "due", "ages") if d["url"] == picked[0]]
    assert edited["reason"].startswith("last changed ") and edited["reason"].endswith(" ago: every 15m"), edited
    assert interval(edited) == timedelta(minutes=15)


# -- cron across daylight-saving changes ----------------------------------------------------------------

def fires(expr: str, tz: str, start: datetime, end: datetime) -> list[datetime]:
    trigger, found, previous = WallClockCron(expr, zone(tz)), [], None
    now = start
    while True:
        nxt = trigger.get_next_fire_time(previous, now)
        if nxt is None or nxt > end:
            return found
        found.append(nxt)
        previous = now = nxt


@pytest.mark.parametrize("tz, spring, autumn", [
    ("Europe/Berlin", datetime(2026, 3, 29), datetime(2026, 10, 25)),
    ("America/New_York", datetime(2026, 3, 8), datetime(2026, 11, 1)),
])
def test_daily_cron_fires_once_a_day_across_dst_changes(tz: str, spring: datetime, autumn: datetime) -> None:
    local = zone(tz)
    for day in (spring, autumn):
        start = (day - timedelta(days=3)).replace(tzinfo=local)
        times = fires("30 2 * * *", tz, start, start + timedelta(days=7))
        local_days = [t.astimezone(local).date() for t in times]
        assert len(times) == 7 and len(set(local_days)) == 7, times  # neither twice nor skipped
        assert all(b > a for a, b in zip(times, times[1:]))
        changed = next(t.astimezone(local) for t in times if t.astimezone(local).date() == day.date())
        assert (changed.hour, changed.minute) in ((2, 30), (3, 30))


def test_half_hourly_cron_never_repeats_or_steps_back_across_dst() -> None:
    tz = "Europe/Berlin"
    local = zone(tz)
    for day in (datetime(2026, 3, 29, tzinfo=local), datetime(2026, 10, 25, tzinfo=local)):
        times = fires("*/30 * * * *", tz, day, day + timedelta(hours=6))
        assert all(b > a for a, b in zip(times, times[1:]))
        walls = [t.astimezone(local).replace(tzinfo=None) for t in times]
        assert len(walls) == len(set(walls)), "a wall-clock time fires once"
        assert all(t.minute in (0, 30) for t in walls)
        assert max(b - a for a, b in zip(times, times[1:])) <= timedelta(hours=1, minutes=30)


def test_restart_catches_up_once_then_keeps_the_regular_times() -> None:
    tz = zone("Europe/Berlin")
    trigger = WallClockCron("0 6 * * *", tz)
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert first_run(trigger, None, now - timedelta(days=3), now) == now  # missed runs: one, now
    upcoming = first_run(trigger, None, datetime(2026, 11, 22, 5, 0, tzinfo=UTC), now)
    assert upcoming == datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # 06:00 CET
    assert first_run(trigger, 60, now - timedelta(seconds=20), now) == now + timedelta(seconds=40)


def test_sigterm_stops_a_running_job_cleanly(db: str, site: FakeSite, urls: list[str],
                                             scheduler: Callable[..., SchedulerProcess]) -> None:
    add_job(db, "watch", "--every", "1h", "-s", "CONCURRENT_REQUESTS=1", *urls)
    site.delay = 0.7
    proc = scheduler()
    wait_for(lambda: sum(1 for entry in list(site.log) if entry["path"] != "/robots.txt") >= 2,
             what="the run to be midway")
    assert proc.stop() == 0
    [run] = runs_of(db)
    assert run["outcome"] == "stopped" and 1 <= run["fetched"] < len(urls), run
    archived = [a["url"] for a in invoke_json(db, "list")]
    assert len(archived) == run["fetched"]
    entries = [entry for url in archived for entry in invoke_json(db, "log", url)]
    assert entries and not [e for e in entries if "event" in e], "stopping must not record failures"
    assert "scheduler stopped" in proc.log.read_text()


# -- feeds and sitemaps ---------------------------------------------------------------------------------

def rss(items: list[tuple[str, str]]) -> str:
    entries = "".join(f"<item><title>Story</title><link>{url}</link><pubDate>{date}</pubDate></item>"
                      for url, date in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>{entries}</channel></rss>'


def sitemap(items: list[tuple[str, str]]) -> str:
    entries = "".join(f"<url><loc>{url}</loc><lastmod>{lastmod}</lastmod></url>" for url, lastmod in items)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'


def run_job(db: str, name: str) -> dict[str, Any]:
    done = run_redline(db, "schedule", "run", name, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_job_tracks_feed_articles_and_keeps_checking_those_that_left_the_feed(
        db: str, site: FakeSite, urls: list[str]) -> None:
    from redline.fakesite import Route

    site.routes["/rss.xml"] = Route(body=rss([(urls[0], "Thu, 05 Dec 2024 09:00:00 GMT"),
                                              (urls[1], "Thu, 05 Dec 2024 08:00:00 GMT")]),
                                    content_type="application/rss+xml")
    add_job(db, "feed", "--every", "1h", "--recheck", "1h:1s,1d", "--feed", site.url("rss.xml"))
    first = run_job(db, "feed")
    assert (first["discovered"], first["fetched"], first["new_articles"]) == (2, 2, 2), first

    site.routes["/rss.xml"].body = rss([(urls[2], "Thu, 05 Dec 2024 10:00:00 GMT")])
    site.story(urls[0].split("/", 3)[3]).paragraphs.append(
        "Correction: this article has been updated to reflect the treaty's ratification date.")
    wait_for(lambda: all(d["due_now"] for d in invoke_json(db, "due", "feed")), what="both articles to be due")
    second = run_job(db, "feed")
    assert (second["discovered"], second["fetched"], second["new_articles"], second["new_versions"]) == (1, 3, 1, 1)
    assert versions(db, urls[0]) == [1, 2]
    assert [r["outcome"] for r in runs_of(db)] == ["ok", "ok"]


def test_sitemap_lastmod_brings_a_check_forward(db: str, site: FakeSite, urls: list[str]) -> None:
    from redline.fakesite import Route

    old = "2024-12-05T09:00:00+00:00"
    site.routes["/news-sitemap.xml"] = Route(body=sitemap([(urls[0], old), (urls[1], old)]),
                                             content_type="application/xml")
    add_job(db, "map", "--every", "1h", "--sitemap", site.url("news-sitemap.xml"))
    assert run_job(db, "map")["fetched"] == 2
    assert run_job(db, "map")["fetched"] == 0  # nothing due: both were just checked

    site.story(urls[1].split("/", 3)[3]).title += " (updated)"
    fresh = (datetime.now(UTC) + timedelta(seconds=1)).isoformat(timespec="seconds")
    site.routes["/news-sitemap.xml"].body = sitemap([(urls[0], old), (urls[1], fresh)])
    third = run_job(db, "map")
    assert (third["fetched"], third["new_versions"]) == (1, 1), third
    assert versions(db, urls[1]) == [1, 2] and versions(db, urls[0]) == [1]
    reasons = {d["url"]: d["reason"] for d in invoke_json(db, "due", "map")}
    assert all("every 15m" in reason for reason in reasons.values()), reasons


def test_a_lastmod_in_the_future_brings_one_check_forward_not_every_check(
        db: str, site: FakeSite, urls: list[str]) -> None:
    """A sitemap whose clock (or time zone) is hours ahead: its lastmod counts from when it was listed."""
    from redline.fakesite import Route

    ahead = (datetime.now(UTC) + timedelta(hours=5)).isoformat(timespec="seconds")
    site.routes["/news-sitemap.xml"] = Route(body=sitemap([(urls[0], ahead)]), content_type="application/xml")
    add_job(db, "ahead", "--every", "1h", "--sitemap", site.url("news-sitemap.xml"))
    assert run_job(db, "ahead")["fetched"] == 1
    assert run_job(db, "ahead")["fetched"] == 0, "a lastmod still in the future is not due again"
    [entry] = invoke_json(db, "due", "ahead")
    assert "every 15m" in entry["reason"] and not entry["due_now"], entry

    later = (datetime.now(UTC) + timedelta(hours=6)).isoformat(timespec="seconds")
    site.routes["/news-sitemap.xml"].body = sitemap([(urls[0], later)])
    assert run_job(db, "ahead")["fetched"] == 1, "a newer lastmod, even in the future, is due once"
    assert run_job(db, "ahead")["fetched"] == 0


def test_unreachable_feed_is_a_run_problem_not_a_crash(db: str, site: FakeSite, urls: list[str]) -> None:
    add_job(db, "broken", "--every", "1h", "--feed", site.url("missing-feed.xml"), urls[0])
    summary = run_job(db, "broken")
    assert summary["fetched"] == 1 and summary["failures"] == 1
    assert any("missing-feed.xml" in problem for problem in summary["problems"])
    [run] = runs_of(db)
    assert run["outcome"] == "ok" and "missing-feed.xml" in run["error"]


def test_a_run_over_its_time_limit_is_stopped_and_marked_timeout(
        db: str, site: FakeSite, urls: list[str], scheduler: Callable[..., SchedulerProcess]) -> None:
    add_job(db, "slow", "--every", "1h", "-s", "CONCURRENT_REQUESTS=1", *urls)
    site.delay = 2.0
    proc = scheduler("--run-timeout", "4s")
    [run] = wait_for(lambda: [r for r in runs_of(db) if r["outcome"] != "running"], what="the run to end")
    assert run["outcome"] == "timeout" and "killed after 4 s" in run["error"], run
    assert proc.stop() == 0
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
