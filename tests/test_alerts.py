"""Alerts end to end: real crawls of the loopback site record versions, the store writes the
outbox in the same transaction, and ``redline alert send`` (or the scheduler) delivers through
apprise to real receivers on 127.0.0.1: a JSON webhook and an SMTP server."""
from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from redline.fakesite import FakeSite, Story
from tests.conftest import crawl, invoke_json, run_redline
from tests.receivers import Mailbox, Webhook, mailbox, wait_for, webhook  # noqa: F401  (fixtures)


def redline_ok(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    done = run_redline(db, *args)
    assert done.returncode == 0, done.stderr
    return done


def send(db: str, *args: str) -> dict[str, Any]:
    """One ``redline alert send --json`` pass; returns its counts (it exits 1 when some failed)."""
    done = run_redline(db, "alert", "send", "--json", *args)
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout)


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
    assert item["diff_url"].startswith("https://redline.example.org/diff?url=http%3A%2F%2F127.0.0.1")
    assert item["diff_url"].endswith("&from=1&to=2")
    # The plain-text message: title, URL, facts and the word-level excerpt.
    assert stories[0].title in body["title"] and urls[0] in body["message"]
    assert ("Headline: [-Russia-North Korea Defense-] Pact [-Enters Into Force-]"
            "{+enters into force <b>after</b> ratification+}") in body["message"]
    assert "Diff: https://redline.example.org/diff?" in body["message"]
    log = invoke_json(db, "alert", "log")
    assert [(e["rule"], e["status"], e["attempts"], e["url"]) for e in log] == [("desk", "sent", 1, urls[0])]
    assert log[0]["attempt_log"][0]["error"] is None and log[0]["target"].startswith("json://127.0.0.1:")
