"""Row 6: ``redline serve`` on the synthetic archive: p50 and p95 server time of the Changes page, a
50-version timeline, a diff and a feed, each against a trivial route on the same server, interleaved."""
from __future__ import annotations

import http.client
import re
import select
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from archive.queries import SHORT_ID
from archive.schema.tables import key_sha256
from archive.text.textpack import pack
from bench import proc
from bench.history import T0
from redline.fakesite import load_stories

LONG = 50  # versions of the article whose timeline and diff are measured


def add_long_article(db: Path, versions: int = LONG) -> str:
    """One more article, with ``versions`` versions (a full text every 64, deltas between); its short ID."""
    story = load_stories()[1]
    texts = ["\n\n".join(story.paragraphs)]
    for n in range(2, versions + 1):
        paras = texts[-1].split("\n\n")
        paras[n % len(paras)] += f" Update {n}: officials confirmed a further detail."
        texts.append("\n\n".join(paras))
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        article = conn.execute(text("SELECT coalesce(max(id), 0) + 1 FROM articles")).scalar_one()
        stamp = (T0.replace(tzinfo=None)).strftime("%Y-%m-%d %H:%M:%S.000000")
        conn.execute(text("INSERT INTO articles (id, key, host, status, first_seen, last_checked, last_changed, "
                          "version_count, key_sha256) VALUES (:id, :key, 'long.example', 'live', :t, :t, :t, :n, :sha)"),
                     {"id": article, "key": f"https://long.example/news/{article}", "t": stamp, "n": versions,
                      "sha": key_sha256(f"https://long.example/news/{article}")})
        conn.execute(text("INSERT INTO article_urls (article_id, url, first_seen) VALUES (:id, :key, :t)"),
                     {"id": article, "key": f"https://long.example/news/{article}", "t": stamp})
        for n, body in enumerate(texts, 1):
            base = None if n == 1 else n - 1
            conn.execute(text(
                "INSERT INTO versions (article_id, number, captured_at, title, text_blob, text_base, text_sha256, "
                "words, paragraph_hashes, noise_hashes, extractor, change_kinds, added_words, removed_words, "
                "declared, drift) VALUES (:a, :n, :t, :title, :blob, :base, :sha, :words, '[]', '[]', 'synthetic', "
                ":kinds, :added, 0, 0, 0)"),
                {"a": article, "n": n, "t": f"{T0.year + 1}-01-01 {n // 60:02d}:{n % 60:02d}:00.000000",
                 "title": story.title, "blob": pack(body, texts[n - 2] if base else None), "base": base,
                 "sha": "0" * 64, "words": len(body.split()), "kinds": None if n == 1 else '["body-edit"]',
                 "added": None if n == 1 else 6})
    engine.dispose()
    return key_sha256(f"https://long.example/news/{article}")[:SHORT_ID]


def serve(db: Path) -> tuple[subprocess.Popen[str], str, int]:
    """A real ``redline serve`` child on a free loopback port: the process, its host and port."""
    child = subprocess.Popen([proc.PY, "-m", "redline", "--db", str(db), "serve", "--port", "0"], cwd=proc.ROOT,
                             env=proc.ENV, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert child.stdout is not None
    ready, _, _ = select.select([child.stdout], [], [], 120)
    found = re.search(r"http://([\d.]+):(\d+)/", child.stdout.readline() if ready else "")
    if not found:
        child.kill()
        raise RuntimeError("redline serve did not start")
    return child, found.group(1), int(found.group(2))


def measure(db: Path, reps: int) -> dict[str, Any]:
    """Times (ms) of each route over one keep-alive loopback connection, interleaved, after a warm-up."""
    article = add_long_article(db)
    routes = {"trivial": "/healthz", "changes": "/", "timeline": f"/a/{article}",
              "diff": f"/a/{article}/diff/{LONG - 1}/{LONG}", "feed": "/feed.atom"}
    child, host, port = serve(db)
    times: dict[str, list[float]] = {name: [] for name in routes}
    try:
        conn = http.client.HTTPConnection(host, port, timeout=60)
        for rep in range(reps + 5):
            for name, path in routes.items():
                start = time.perf_counter()
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
                took = (time.perf_counter() - start) * 1000
                if response.status != 200 or not body:
                    raise RuntimeError(f"GET {path}: HTTP {response.status}")
                if rep >= 5:  # the first rounds warm caches
                    times[name].append(took)
        conn.close()
    finally:
        child.terminate()
        child.wait(30)
    return {"routes": routes, "times_ms": times,
            "p50_ms": {k: statistics.median(v) for k, v in times.items()},
            "p95_ms": {k: statistics.quantiles(v, n=20)[18] for k, v in times.items()}}
