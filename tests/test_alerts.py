"""Alerts end to end: real crawls of the loopback site record versions, the store writes the
outbox in the same transaction, and ``redline alert send`` (or the scheduler) delivers through
apprise to real receivers on 127.0.0.1: a JSON webhook and an SMTP server."""
from __future__ import annotations

import json
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from archive.capture import Capture, Extracted
from archive.schema import tables as t
from archive.schema.db import open_engine
from archive.store.facade import Archive
from archive.watch.alerts import RuleSpec, add_alert_rule
from jobs.queue import enqueue, ensure_schema
from redline.fakesite import Story
from tests.conftest import crawl, invoke, invoke_json, run_redline, start_serve
from tests.pg import pg_server, pg_url  # noqa: F401  (fixtures)
from tests.receivers import Mailbox, Webhook, mailbox, wait_for, webhook  # noqa: F401  (fixtures)


def redline_ok(db: str, *args: str) -> None:
    """A ``redline`` command, in this process."""
    result = invoke(db, *args)
    assert result.exit_code == 0, result.output


def send(db: str, *args: str) -> dict[str, Any]:
    """One ``redline alert send --json`` pass; returns its counts (it exits 1 when some failed)."""
    result = invoke(db, "alert", "send", "--json", *args)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def outbox(db: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT rule, version, status, attempts, key FROM alert_outbox ORDER BY id").fetchall()


def test_headline_change_delivers_exactly_one_webhook_with_the_documented_payload(
        db: str, urls: list[str], stories: list[Story], webhook: Webhook) -> None:
    crawl(db, *urls)
    redline_ok(db, "alert", "add", "desk", "--to", webhook.url(), "--kinds", "headline,correction")
    stories[0].title = "Pact enters into force <b>after</b> ratification"
    stories[1].paragraphs[1] += " Officials gave no further details on the timing."  # body edit only: no match
    assert crawl(db, *urls)["new_versions"] == 2
    assert [(rule, version, status) for rule, version, status, _, _ in outbox(db)] == [("desk", 2, "pending")]

    assert send(db, "--base-url", "https://redline.example.org/") == {"sent": 1, "retrying": 0, "failed": 0}
    assert send(db) == {"sent": 0, "retrying": 0, "failed": 0}
    [hook] = webhook.received
    body = hook.body
    assert set(body) >= {"version", "title", "message", "type", "redline"}
    redline = body["redline"]
    assert hook.headers["Idempotency-Key"] == redline["idempotency_key"] == outbox(db)[0][4]
    assert redline["rule"] == "desk" and redline["digest"] is None and redline["test"] is False
    [item] = redline["alerts"]
    assert item["url"] == urls[0] and item["version"] == 2 and item["previous_version"] == 1
    assert "headline" in item["kinds"] and item["stealth"] is True and item["declared"] is False
    assert item["diff"] == invoke_json(db, "diff", urls[0])  # the CLI's diff JSON, unchanged
    short_id = invoke_json(db, "list")[[r["url"] for r in invoke_json(db, "list")].index(urls[0])]["id"]
    assert item["diff_url"] == f"https://redline.example.org/a/{short_id}/diff/1/2"
    # The plain-text message: title, URL, facts and the word-level excerpt.
    assert stories[0].title in body["title"] and urls[0] in body["message"]
    assert ("Headline: [-Russia-North Korea Defense-] Pact [-Enters Into Force-]"
            "{+enters into force <b>after</b> ratification+}") in body["message"]
    assert f"Diff: https://redline.example.org/a/{short_id}/diff/1/2" in body["message"]
    log = invoke_json(db, "alert", "log")
    assert [(e["rule"], e["status"], e["attempts"], e["url"]) for e in log] == [("desk", "sent", 1, urls[0])]
    assert log[0]["attempt_log"][0]["error"] is None and log[0]["target"].startswith("json://127.0.0.1:")


def test_every_link_in_delivered_alerts_opens_in_redline_serve(db: str, urls: list[str], stories: list[Story],
                                                              webhook: Webhook) -> None:
    """The fronts walked together: an immediate alert and a digest, sent with --base-url pointing at a
    running ``redline serve`` of the same archive; every link they carry answers 200 with that diff."""
    crawl(db, *urls[:2])
    redline_ok(db, "alert", "add", "now", "--to", webhook.url())
    redline_ok(db, "alert", "add", "daily", "--to", webhook.url("/digest"), "--digest", "daily")
    stories[0].title = "Treaty in force"
    stories[1].paragraphs[1] += " No date was given."
    crawl(db, *urls[:2])
    with sqlite3.connect(db) as conn:  # the clock is the one edge a test cannot wait for: end the day
        conn.execute("UPDATE alert_outbox SET due_at = '2000-01-01 00:00:00.000000', "
                     "next_attempt_at = '2000-01-01 00:00:00.000000' WHERE rule = 'daily'")
    proc, line = start_serve(db)
    try:
        base = re.search(r"http://\S+/", line).group(0)
        assert send(db, "--base-url", base) == {"sent": 3, "retrying": 0, "failed": 0}
        links = {link for hook in webhook.received for link in re.findall(r"http://127\.0\.0\.1:\d+/\S+",
                                                                          hook.body["message"])
                 if link.startswith(base)}
        links |= {item["diff_url"] for hook in webhook.received for item in hook.body["redline"]["alerts"]}
        assert len(links) == 2, links  # one diff page per changed article, in both messages
        for link in links:
            with urllib.request.urlopen(link, timeout=30) as answer:
                page = answer.read().decode("utf-8")
            assert answer.status == 200 and "v1" in page and "v2" in page, link
    finally:
        proc.terminate()
        proc.wait(30)


def test_each_rule_filter_picks_exactly_its_changes(db: str, urls: list[str], stories: list[Story],
                                                    webhook: Webhook) -> None:
    crawl(db, *urls)
    redline_ok(db, "schedule", "add", "j1", "--every", "1h", urls[0], urls[4])
    assert run_redline(db, "schedule", "run", "j1", "--json").returncode == 0  # tracks urls 0 and 4
    rules = {"heads": ["--kinds", "headline"], "stealthy": ["--stealth-only", "--include-trivial"],
             "big": ["--min-words", "10"], "job": ["--job", "j1"], "elsewhere": ["--site", "example.com"],
             "here": ["--site", "127.0.0.1"], "default": [], "everything": ["--include-trivial"],
             "stamps": ["--kinds", "declared-update-only"]}
    for name, options in rules.items():
        redline_ok(db, "alert", "add", name, "--to", webhook.url(f"/{name}"), *options)
    stories[0].title = "Pact takes effect, Kremlin says"                          # headline, stealth
    assert "agreement" in stories[1].paragraphs[1]
    stories[1].paragraphs[1] = stories[1].paragraphs[1].replace("agreement", "agreemant")  # one letter
    assert stories[2].paragraphs[1].endswith(".")
    stories[2].paragraphs[1] = stories[2].paragraphs[1][:-1]                       # punctuation only
    stories[3].updated = "2024-12-05T10:00:00Z"                                    # declared update only
    stories[4].updated = "2024-12-05T10:00:00Z"                                    # declared, 20 words added
    stories[4].paragraphs.append("Officials said the treaty would be reviewed by both parliaments "
                                 "before the end of the year, according to a statement.")
    assert crawl(db, *urls)["new_versions"] == 5
    assert send(db)["failed"] == 0
    got: dict[str, set[int]] = {name: set() for name in rules}
    for hook in webhook.accepted():
        got[hook.path.strip("/")] |= {urls.index(a["url"]) for a in hook.body["redline"]["alerts"]}
    assert got == {"heads": {0}, "stealthy": {0, 1, 2}, "big": {4}, "job": {0, 4}, "elsewhere": set(),
                   "here": {0, 4}, "default": {0, 4}, "everything": {0, 1, 2, 3, 4}, "stamps": {3}}
    assert len(webhook.received) == sum(map(len, got.values()))  # one message per change and rule


def test_digest_sends_one_message_per_period_grouped_by_article_most_significant_first(
        db: str, urls: list[str], stories: list[Story], webhook: Webhook) -> None:
    crawl(db, *urls[:3])
    redline_ok(db, "alert", "add", "hourly", "--to", webhook.url(), "--digest", "hourly")
    stories[0].paragraphs[1] += " Officials added that the treaty covers trade, energy and regional security."
    stories[2].paragraphs[1] += " No date was given."
    stories[1].title = "Treaty in force"
    crawl(db, *urls[:3])
    stories[0].paragraphs[2] += " Both sides welcomed it."
    crawl(db, *urls[:3])
    assert [(rule, version, status, key) for rule, version, status, _, key in outbox(db)] == [
        ("hourly", 2, "pending", None)] * 3 + [("hourly", 3, "pending", None)]
    assert send(db) == {"sent": 0, "retrying": 0, "failed": 0}  # the hour has not ended
    assert not webhook.received
    with sqlite3.connect(db) as conn:  # the clock is the one edge a test cannot wait for: end the hour
        conn.execute("UPDATE alert_outbox SET due_at = '2000-01-01 00:00:00.000000', "
                     "next_attempt_at = '2000-01-01 00:00:00.000000'")
    assert send(db) == {"sent": 1, "retrying": 0, "failed": 0}
    [hook] = webhook.received
    alerts = hook.body["redline"]["alerts"]
    # Headline first, then by words changed; an article's versions together, oldest first.
    assert [(urls.index(a["url"]), a["version"]) for a in alerts] == [(1, 2), (0, 2), (0, 3), (2, 2)]
    assert hook.body["redline"]["digest"] == "hourly" and len({k for *_, k in outbox(db)}) == 1
    message = hook.body["message"]
    assert message.index(stories[1].title) < message.index(stories[0].title) < message.index(stories[2].title)
    assert "4 change(s) in 3 article(s)" in hook.body["title"]
    assert send(db) == {"sent": 0, "retrying": 0, "failed": 0}


def test_email_escapes_hostile_titles_and_carries_the_excerpt(db: str, urls: list[str], stories: list[Story],
                                                              mailbox: Mailbox) -> None:
    crawl(db, urls[0])
    redline_ok(db, "alert", "add", "mail", "--to", mailbox.url())
    stories[0].title = 'Pact <script>alert(1)</script> [click](javascript:alert(1)) <img src=x onerror=alert(2)>'
    stories[0].paragraphs[1] = stories[0].paragraphs[1].replace("obligates", "requires")
    crawl(db, urls[0])
    assert send(db) == {"sent": 1, "retrying": 0, "failed": 0}
    [mail] = mailbox.messages
    assert "<script>alert(1)</script>" in mail["Subject"]  # a subject is plain text
    html = "".join(part.get_content() for part in mail.walk() if part.get_content_type() == "text/html")
    assert html and "<script" not in html and "<img" not in html and "javascript:alert" not in html.replace(
        "[click](javascript:alert(1))", "")
    assert 'href="javascript' not in html and "&lt;script&gt;" in html
    assert "[-obligates-]{+requires+}" in html


def test_receiver_that_fails_then_recovers_and_one_that_never_does(db: str, urls: list[str], stories: list[Story],
                                                                   webhook: Webhook) -> None:
    with socket.socket() as probe:  # a port nothing listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        dead = f"json://127.0.0.1:{probe.getsockname()[1]}/hook"
    crawl(db, urls[0])
    redline_ok(db, "alert", "add", "flaky", "--to", webhook.url())
    redline_ok(db, "alert", "add", "dead", "--to", dead)
    webhook.fail = 2
    stories[0].title = "Treaty in force"
    crawl(db, urls[0])
    options = ("--retry-base", "0", "--max-attempts", "3")
    assert send(db, *options) == {"sent": 0, "retrying": 2, "failed": 0}
    [flaky, gone] = sorted(invoke_json(db, "alert", "log"), key=lambda e: e["rule"], reverse=True)
    assert flaky["status"] == "pending" and flaky["attempts"] == 1 and "500" in flaky["last_error"]
    assert gone["attempts"] == 1 and "onnection" in gone["last_error"]
    assert send(db, *options) == {"sent": 0, "retrying": 2, "failed": 0}
    done = run_redline(db, "alert", "send", *options)
    assert done.returncode == 1 and "sent 1  retrying 0  failed 1" in done.stdout
    assert "1 alert(s) not delivered" in done.stderr.splitlines()[-1]
    assert [h.status for h in webhook.received] == [500, 500, 200]
    assert len({h.key for h in webhook.received}) == 1  # every attempt carries the same key
    log = {e["rule"]: e for e in invoke_json(db, "alert", "log")}
    assert log["flaky"]["status"] == "sent" and [a["error"] is None for a in log["flaky"]["attempt_log"]] == [
        False, False, True]
    assert log["dead"]["status"] == "failed" and log["dead"]["attempts"] == 3
    assert [e["rule"] for e in invoke_json(db, "alert", "log", "--status", "failed")] == ["dead"]
    assert send(db, *options) == {"sent": 0, "retrying": 0, "failed": 0}  # failed is final
    assert {r["name"]: (r["sent"], r["failed"]) for r in invoke_json(db, "alert", "list")} == {
        "flaky": (1, 0), "dead": (0, 1)}


def test_receiver_that_hangs_times_out_then_the_retry_is_delivered(db: str, urls: list[str], stories: list[Story],
                                                                   webhook: Webhook) -> None:
    crawl(db, urls[0])
    redline_ok(db, "alert", "add", "slow", "--to", webhook.url(query="rto=1"))
    webhook.hang = 1
    stories[0].title = "Treaty in force"
    crawl(db, urls[0])
    assert send(db, "--retry-base", "0") == {"sent": 0, "retrying": 1, "failed": 0}
    [entry] = invoke_json(db, "alert", "log")
    assert entry["status"] == "pending" and "timed out" in entry["last_error"]
    webhook.release.set()  # the hung request ends (its sender stopped waiting long ago)
    assert send(db, "--retry-base", "0") == {"sent": 1, "retrying": 0, "failed": 0}
    wait_for("the hung request to finish", lambda: len(webhook.received) == 2)
    assert len({h.key for h in webhook.received}) == 1 and len(webhook.accepted()) == 1


def test_sigkill_of_the_sender_mid_batch_loses_nothing_and_repeats_at_most_one(
        db: str, urls: list[str], stories: list[Story], webhook: Webhook) -> None:
    crawl(db, *urls)
    for name in ("a", "b", "c"):
        redline_ok(db, "alert", "add", name, "--to", webhook.url(f"/{name}"))
    for story in stories:
        story.title += " (updated)"
    crawl(db, *urls)
    keys = {key for *_, key in outbox(db)}
    assert len(keys) == 15
    webhook.block_at = 6
    sender = subprocess.Popen([sys.executable, "-m", "redline", "--db", db, "alert", "send", "--lease", "2"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert webhook.arrived.wait(60), "the sender never reached the sixth alert"
        sender.send_signal(signal.SIGKILL)  # after sending the sixth alert, before it could mark it sent
        sender.wait(30)
    finally:
        webhook.release.set()
    wait_for("the blocked request to finish", lambda: len(webhook.received) == 6)
    blocked = webhook.received[-1].key

    def all_sent() -> bool:
        send(db, "--lease", "2")  # the killed sender's lease ends after 2 s
        return all(status == "sent" for _, _, status, _, _ in outbox(db))

    wait_for("every alert to be sent", all_sent)
    counts = Counter(h.key for h in webhook.received)
    assert set(counts) == keys  # nothing lost
    assert [key for key, n in counts.items() if n > 1] == [blocked] and counts[blocked] == 2  # one repeat, same key
    assert invoke_json(db, "verify")["ok"]  # nothing the kill interrupted altered the chain


def test_rules_are_validated_with_one_line_errors(db: str, urls: list[str], stories: list[Story],
                                                  webhook: Webhook) -> None:
    hook = webhook.url()
    bad = {("--to", hook, "--kinds", "headline,typo"): "unknown change kind 'typo'",
           ("--to", "nope://x"): "malformed or unsupported apprise URL 'nope://…'",
           ("--to", "mailto://user:pw@127.0.0.1?from=a@b.c&to=x@y.z"): "Invalid ~From~ email",
           ("--to", hook, "--job", "nosuch"): "unknown job 'nosuch'",
           ("--to", hook, "--site", "https://example.com/news"): "give a host name",
           ("--to", hook, "--digest", "weekly"): "bad --digest 'weekly'",
           ("--to", hook, "--min-words", "-3"): "bad --min-words '-3'",
           ("--kinds", "headline"): "give at least one --to"}
    for args, message in bad.items():
        done = run_redline(db, "alert", "add", "desk", *args) if args[0] == "--kinds" else None
        result = invoke(db, "alert", "add", "desk", *args)
        assert result.exit_code == 2 and message in result.stderr and result.stderr.count("\n") == 1, (args, result)
        assert "pw" not in result.stderr
        if done is not None:  # and as a user sees it: one line, no traceback
            assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    redline_ok(db, "alert", "add", "desk", "--to", hook)
    assert invoke(db, "alert", "add", "desk", "--to", hook).exit_code == 1  # exists
    for command in ("remove", "pause", "resume", "test"):
        result = invoke(db, "alert", command, "nosuch")
        assert result.exit_code == 1 and "no alert named 'nosuch'" in result.stderr, (command, result.output)
    assert invoke(db, "alert", "log", "--status", "lost").exit_code == 2

    # alert test sends a sample marked as a test, with a fresh key, outside the outbox.
    redline_ok(db, "alert", "test", "desk")
    [sample] = webhook.received
    assert sample.body["redline"]["test"] is True and sample.key.startswith("test-")
    assert sample.body["redline"]["alerts"][0]["diff"]["changes"]

    # A paused rule records nothing new, and what it had waits until it is resumed.
    crawl(db, urls[0])
    stories[0].title = "First edit"
    crawl(db, urls[0])
    redline_ok(db, "alert", "pause", "desk")
    stories[0].title = "Second edit, while paused"
    crawl(db, urls[0])
    assert [(r, v, s) for r, v, s, _, _ in outbox(db)] == [("desk", 2, "pending")]
    assert send(db)["sent"] == 0
    redline_ok(db, "alert", "resume", "desk")
    assert send(db)["sent"] == 1
    [listed] = invoke_json(db, "alert", "list")
    assert listed["targets"] == [hook.split("/hook")[0] + "/…"] and listed["paused"] is False and listed["sent"] == 1
    redline_ok(db, "alert", "remove", "desk")
    assert invoke_json(db, "alert", "list") == [] and invoke_json(db, "alert", "log")[0]["rule"] == "desk"


def test_scheduler_delivers_after_its_run(db: str, urls: list[str], stories: list[Story], webhook: Webhook,
                                          tmp_path: Path) -> None:
    crawl(db, urls[0])
    redline_ok(db, "schedule", "add", "desk-job", "--every", "1h", "--recheck", "1s", urls[0])
    redline_ok(db, "alert", "add", "desk", "--to", webhook.url(), "--kinds", "headline,correction")
    stories[0].title = "Pact takes effect"
    # the crawl checked it under a second ago: a run that starts sooner rightly has nothing to fetch
    # ('list' prints whole seconds, so the check was up to a second after the time it shows)
    checked = datetime.fromisoformat(invoke_json(db, "list")[0]["last_checked"])
    wait_for("the article to be due", lambda: datetime.now(UTC) > checked + timedelta(seconds=2))
    with (tmp_path / "scheduler.log").open("w") as log:
        scheduler = subprocess.Popen([sys.executable, "-m", "redline", "--db", db, "scheduler", "--sync-every", "1s"],
                                     stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for("the scheduler's run to alert", lambda: bool(webhook.received), deadline=120)
            scheduler.send_signal(signal.SIGTERM)
            assert scheduler.wait(60) == 0
        finally:
            if scheduler.poll() is None:
                scheduler.kill()
                scheduler.wait()
    [hook] = webhook.received
    assert hook.body["redline"]["alerts"][0]["kinds"] == ["headline"]
    assert [s for _, _, s, _, _ in outbox(db)] == ["sent"]


def test_versions_recorded_by_a_postgres_worker_are_alerted_by_it(
        pg_url: str, urls: list[str], stories: list[Story], webhook: Webhook, tmp_path: Path) -> None:
    crawl(pg_url, urls[0])
    ensure_schema(pg_url)
    redline_ok(pg_url, "alert", "add", "desk", "--to", webhook.url(), "--kinds", "headline,correction")
    stories[0].title = "Pact takes effect"
    with (tmp_path / "worker.log").open("w") as log:
        worker = subprocess.Popen([sys.executable, "-m", "redline", "--db", pg_url, "worker", "--concurrency", "2",
                                   "--batch-size", "1", "--batch-wait", "0.2", "--heartbeat", "1"],
                                  stdout=log, stderr=subprocess.STDOUT)
        try:
            assert enqueue(pg_url, [urls[0]]) == (1, 0)
            wait_for("the worker's crawl to alert", lambda: bool(webhook.received), deadline=120)
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(60) == 0
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    [hook] = webhook.received
    [item] = hook.body["redline"]["alerts"]
    assert item["url"] == urls[0] and item["version"] == 2 and item["kinds"] == ["headline"]
    [entry] = invoke_json(pg_url, "alert", "log")
    assert entry["status"] == "sent" and entry["key"] == hook.key


def test_a_version_renoise_recovers_alerts_and_says_so(db: str, urls: list[str], stories: list[Story],
                                                        webhook: Webhook) -> None:
    crawl(db, urls[0])
    redline_ok(db, "alert", "add", "desk", "--to", webhook.url())
    redline_ok(db, "ignore", "add", "127.0.0.1", "^Officials said")  # a rule that wrongly hides an edit
    stories[0].paragraphs.insert(2, "Officials said the treaty had been quietly amended before it took effect.")
    assert crawl(db, urls[0])["new_versions"] == 0
    assert outbox(db) == []
    redline_ok(db, "ignore", "remove", "127.0.0.1", "^Officials said")
    done = run_redline(db, "renoise", urls[0], "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["recovered"], done.stderr
    assert send(db)["sent"] == 1
    [hook] = webhook.received
    [item] = hook.body["redline"]["alerts"]
    assert item["recovered_at"] is not None and item["kinds"] == ["paragraph-added"]
    assert "recovered by renoise" in hook.body["message"]
    assert "{+Officials said the treaty had been quietly amended" in hook.body["message"]


def test_an_alert_commits_or_rolls_back_with_its_version(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'a.db'}", writer=True)
    archive, url, t0 = Archive(engine), "https://news.example/world/talks", datetime(2024, 12, 5, 9, tzinfo=UTC)
    text = ("Negotiators met for the third round of talks in the capital on Wednesday evening. The delegations "
            "discussed border crossings, trade quotas, fishing rights and the release of detained sailors.\n\n"
            "Officials on both sides said a joint statement would follow once the ministers had agreed on it.")

    def record(n: int, title: str) -> None:
        fetch = Capture(url, t0 + timedelta(hours=n), final_url=url, status=200, body=f"<p>{n}</p>".encode())
        archive.record(fetch, Extracted(text, title=title, extractor="test"))

    def counts() -> tuple[int, int]:
        with engine.connect() as conn:
            return (conn.scalar(select(func.count()).select_from(t.versions)),
                    conn.scalar(select(func.count()).select_from(t.alert_outbox)))

    try:
        add_alert_rule(engine, RuleSpec("desk", ["json://127.0.0.1:9/hook"]), t0)
        record(1, "Talks resume")
        seen: list[str] = []

        def crash_after_the_outbox_write(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if seen:
                raise RuntimeError("crash after the outbox row was written")
            if statement.startswith("INSERT INTO alert_outbox"):
                seen.append(statement)

        event.listen(engine, "after_cursor_execute", crash_after_the_outbox_write)
        with pytest.raises(RuntimeError):
            record(2, "Talks collapse")
        event.remove(engine, "after_cursor_execute", crash_after_the_outbox_write)
        assert seen and counts() == (1, 0)  # neither the version nor its alert
        record(2, "Talks collapse")
        assert counts() == (2, 1)  # both
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_senders_claiming_one_alert_at_once_deliver_it_once(backend: str, tmp_path: Path, webhook: Webhook,
                                                                 request: pytest.FixtureRequest) -> None:
    """Two ``alert send`` passes that both found the same message due claim it at once: one sends it,
    the other finds it leased. The first delivery is held at the receiver until the other sender has
    finished, so the winner cannot have marked it sent before the loser tried."""
    import threading

    from jobs.alert_sender import SendOptions, send_pending

    url = f"sqlite:///{tmp_path / 'a.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    engine = open_engine(url, writer=True, must_exist=False)
    archive, article, t0 = Archive(engine), "https://news.example/world/talks", datetime(2024, 12, 5, 9, tzinfo=UTC)
    text = ("Negotiators met for the third round of talks in the capital on Wednesday evening. The delegations "
            "discussed border crossings, trade quotas, fishing rights and the release of detained sailors.")
    try:
        add_alert_rule(engine, RuleSpec("desk", [webhook.url()]), t0)
        for n, title in enumerate(["Talks resume", "Talks collapse"], 1):
            fetch = Capture(article, t0 + timedelta(hours=n), final_url=article, status=200, body=f"<p>{n}</p>".encode())
            archive.record(fetch, Extracted(text, title=title, extractor="test"))
    finally:
        engine.dispose()
    senders = [open_engine(url, writer=True) for _ in range(2)]
    meeting, met, reports = threading.Barrier(2, timeout=30), [], []
    looked = threading.local()

    def saw_due_keys(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if re.search(r"GROUP BY alert_outbox\.\W?key", statement):
            looked.due = True

    def meet_after_due_keys(*args: Any) -> None:  # the connection is back in the pool: no transaction open
        if getattr(looked, "due", False) and not getattr(looked, "met", False):
            looked.met = True
            try:
                met.append(meeting.wait() is not None)
            except threading.BrokenBarrierError:
                met.append(False)

    def send_once(engine: Any) -> None:
        reports.append(send_pending(engine, SendOptions()))

    webhook.block_at = 1
    threads = [threading.Thread(target=send_once, args=(e,), daemon=True) for e in senders]
    try:
        for engine in senders:
            event.listen(engine, "before_cursor_execute", saw_due_keys)
            event.listen(engine.pool, "checkin", meet_after_due_keys)
        for thread in threads:
            thread.start()
        wait_for("a sender to finish while the first delivery is held",
                 lambda: webhook.arrived.is_set() and any(not t.is_alive() for t in threads))
        webhook.release.set()
        for thread in threads:
            thread.join(60)
        assert not any(t.is_alive() for t in threads), "a sender hung"
    finally:
        webhook.release.set()
        for engine in senders:
            engine.dispose()
    assert met == [True, True], "the two senders never met: no race happened"
    assert sorted(r.sent for r in reports) == [0, 1], reports
    assert len(webhook.received) == 1
    [entry] = invoke_json(url, "alert", "log")
    assert (entry["status"], entry["attempts"]) == ("sent", 1)
