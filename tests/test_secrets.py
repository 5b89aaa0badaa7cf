"""No alert target's secret in any output: the scheduler's log with -v (apprise's own DEBUG lines
included), a failing delivery's stored error, 'alert log', 'alert list', 'alert send' and 'alert test',
text and JSON. Deliveries go to real loopback receivers; Slack and Discord reach a loopback proxy that
refuses them, so nothing leaves the machine."""
from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from jobs.alert_messages import Message
from jobs.alert_sender import deliver
from jobs.log_secrets import ScrubSecrets
from redline.fakesite import Story
from tests.conftest import crawl, invoke
from tests.receivers import Mailbox, Webhook, mailbox, wait_for, webhook  # noqa: F401  (fixtures)

SECRETS = ("T0SECRET1", "B0SECRET2", "XXSECRETTOKEN42", "4471188812", "DISCORDSECRETTOKEN", "MAILPASSWORD9",
           "HOOKPASSWORD7", "HEADERSECRET5")


def targets(webhook: Webhook, mailbox: Mailbox) -> dict[str, str]:
    """A rule per service README documents, each URL carrying secrets."""
    port = webhook.url().split(":")[2].split("/")[0]
    return {
        "slack": "slack://T0SECRET1/B0SECRET2/XXSECRETTOKEN42",
        "discord": "discord://4471188812/DISCORDSECRETTOKEN",
        "mail": f"mailto://alerts:MAILPASSWORD9@127.0.0.1:{mailbox.port}?from=redline@example.com&to=desk@example.com",
        "hook": f"json://hookuser:HOOKPASSWORD7@127.0.0.1:{port}/hook?+Authorization=Bearer%20HEADERSECRET5",
    }


def leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def test_no_secret_in_the_scheduler_log_alert_log_list_send_or_errors(
        db: str, urls: list[str], stories: list[Story], webhook: Webhook, mailbox: Mailbox, tmp_path: Path) -> None:
    webhook.fail = 10**6  # every delivery fails, so errors are recorded and shown
    crawl(db, urls[0])
    for name, target in targets(webhook, mailbox).items():
        assert invoke(db, "alert", "add", name, "--to", target).exit_code == 0
    stories[0].title = "Pact takes effect"
    assert crawl(db, urls[0])["new_versions"] == 1
    proxy = webhook.url().replace("json://", "http://").rsplit("/", 1)[0]  # answers CONNECT with 501
    env = {**os.environ, "HTTPS_PROXY": proxy, "HTTP_PROXY": proxy, "NO_PROXY": "127.0.0.1,localhost"}
    outputs: dict[str, str] = {}
    with (tmp_path / "scheduler.log").open("w") as log:
        scheduler = subprocess.Popen([sys.executable, "-m", "redline", "--db", db, "scheduler", "-v"],
                                     stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            wait_for("every alert to fail once", lambda: attempted(db) == 4, deadline=120)
            scheduler.send_signal(signal.SIGTERM)
            assert scheduler.wait(60) == 0
        finally:
            if scheduler.poll() is None:
                scheduler.kill()
                scheduler.wait()
    outputs["scheduler -v"] = (tmp_path / "scheduler.log").read_text()
    assert " apprise DEBUG: " in outputs["scheduler -v"] and "[secret]" in outputs["scheduler -v"]
    for args in (["alert", "log"], ["alert", "log", "--json"], ["alert", "list"], ["alert", "list", "--json"],
                 ["alert", "send", "--retry-base", "0"], ["alert", "send", "--json"], ["alert", "test", "slack"],
                 ["alert", "test", "mail"], ["alert", "add", "x", "--to", "slack://T0SECRET1/"]):
        done = subprocess.run([sys.executable, "-m", "redline", "--db", db, *args], capture_output=True, text=True,
                              env=env, timeout=120, check=False)
        outputs[" ".join(args)] = done.stdout + done.stderr
    with sqlite3.connect(db) as conn:  # what is stored for 'alert log' to show
        outputs["stored errors"] = "\n".join(str(row) for row in conn.execute(
            "SELECT last_error, attempt_log FROM alert_outbox"))
    assert "Proxy" in outputs["alert log --json"] and "500" in outputs["alert log --json"]  # errors are there
    assert {name: leaks(text) for name, text in outputs.items()} == {name: [] for name in outputs}
    assert not mailbox.messages and all(h.status == 500 for h in webhook.received)


def attempted(db: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM alert_outbox WHERE attempts > 0").fetchone()[0]


def test_payloads_are_not_logged_without_verbose(webhook: Webhook) -> None:
    webhook.fail = 1
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(ScrubSecrets(verbose=False))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        target = webhook.url(query="+Authorization=HEADERSECRET5")
        message = Message("title", "title", "the text", "the text", {"idempotency_key": "k1", "alerts": []})
        assert "500" in (deliver(target, message) or "")
    finally:
        root.removeHandler(handler)
    assert [r for r in records if r.name.startswith("apprise")]  # its warnings do reach the log
    assert not [r for r in records if r.name.startswith("apprise") and r.levelno < logging.WARNING]
    assert not [r for r in records if "Payload" in r.getMessage() or leaks(r.getMessage())]
