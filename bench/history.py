"""Archives for rows 3 and 4: one article's edit history, and a large synthetic archive."""
from __future__ import annotations

import json
import os
import random
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import zstandard
from sqlalchemy import create_engine, select, text

from archive.capture import Capture
from archive.queries.reading import read_text
from archive.schema import models as m
from archive.schema.db import open_engine
from archive.schema.tables import key_sha256
from archive.store.facade import Archive
from archive.text.normalize import comparable, digest, paragraphs
from archive.text.textpack import FULL_EVERY, LEVEL, pack
from redline.fakesite import Story, load_stories, render

T0 = datetime(2024, 12, 5, 9, 0, tzinfo=UTC)
FILLER = ("officials confirmed late on the statement ministers agreed to review the measures after talks "
          "in the capital amid growing pressure from regional partners").split()


def edit(story: Story, rng: random.Random, n: int) -> None:
    """One small newsroom edit: a word swapped, a sentence appended, a correction, a paragraph added or cut."""
    paras = story.paragraphs
    kind = rng.choice(["word", "word", "word", "sentence", "correction", "paragraph", "cut", "stamp"])
    i = rng.randrange(len(paras))
    if kind == "word":
        words = paras[i].split()
        words[rng.randrange(len(words))] = rng.choice(FILLER)
        paras[i] = " ".join(words)
    elif kind == "sentence":
        paras[i] += " " + " ".join(rng.choices(FILLER, k=rng.randint(6, 14))).capitalize() + "."
    elif kind == "correction":
        paras.append(f"Correction {n}: an earlier version of this article misstated a detail of the talks.")
    elif kind == "paragraph":
        paras.insert(i, " ".join(rng.choices(FILLER, k=rng.randint(18, 30))).capitalize() + ".")
    elif kind == "cut" and len(paras) > 6:
        del paras[i]
    else:
        story.updated = (T0 + timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        paras[i] = paras[i].replace(".", ";", 1) if "." in paras[i][:-1] else paras[i] + " (updated)"


def edit_history(workdir: Path, edits: int = 50) -> dict[str, object]:
    """Record the original and ``edits`` edited versions of one article through Archive.record,
    with text extracted by the real extractor, then compare storage against plain text, zstd and git."""
    from scraper.extract import extract_page

    rng = random.Random(3)
    story = max(load_stories(), key=lambda s: sum(map(len, s.paragraphs)))
    url = f"http://127.0.0.1:8000/{story.slug}"
    db = workdir / "history.db"
    archive = Archive(open_engine(f"sqlite:///{db}", writer=True))
    kinds, record_s = [], []
    for n in range(edits + 1):
        if n:
            edit(story, rng, n)
        page = render(story, url, 0)
        fetch = Capture(url=url, fetched_at=T0 + timedelta(hours=n), final_url=url, status=200,
                      body=page.encode(), content_type="text/html; charset=utf-8")
        extracted = extract_page(page, url)
        start = time.perf_counter()
        kinds.append(archive.record(fetch, extracted).kind)
        record_s.append(time.perf_counter() - start)
    with archive.sessions() as session:
        rows = session.scalars(select(m.Version).order_by(m.Version.number)).all()
        texts = [read_text(session, v) for v in rows]
        stored = sum(len(v.text_blob) for v in rows)
    archive.engine.dispose()
    plain = sum(len(t.encode()) for t in texts)
    zstd_each = sum(len(zstandard.ZstdCompressor(level=LEVEL).compress(t.encode())) for t in texts)
    return {"db": str(db), "url": url, "versions": len(texts), "new_versions": kinds.count("new-version"),
            "unchanged": kinds.count("unchanged"), "plain_bytes": plain, "zstd_each_bytes": zstd_each,
            "git_pack_bytes": git_packed(workdir / "git", texts), "redline_bytes": stored,
            "record_s": record_s,
            "if_full_every": {k: packed_size(texts, k) for k in dict.fromkeys((FULL_EVERY, 16, 32, 128))}}


def packed_size(texts: list[str], full_every: int) -> int:
    """Bytes textpack would store for ``texts`` with a whole copy every ``full_every`` versions."""
    return sum(len(pack(t, texts[i - 1] if i % full_every else None)) for i, t in enumerate(texts))


def git_packed(repo: Path, texts: list[str]) -> int:
    """Size of the .pack files of a git repo with one commit per text, after ``git gc --aggressive``."""
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@b", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo)}

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True)

    git("init", "-q")
    for n, body in enumerate(texts, 1):
        (repo / "article.txt").write_text(body, "utf-8")
        stamp = f"{1733389200 + n * 3600} +0000"
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = stamp
        git("add", "article.txt")
        git("commit", "-q", "-m", f"v{n}")
    git("gc", "--aggressive", "--prune=now", "--quiet")
    return sum(p.stat().st_size for p in (repo / ".git" / "objects" / "pack").glob("*.pack"))


def synthetic_archive(path: Path, versions: int, per_article: int = 10, budget: float = 120.0) -> dict[str, object]:
    """An archive of ``versions`` versions (``per_article`` each) inserted straight into SQLite.

    Stops early, at a whole article, when ``budget`` seconds have passed; returns what it reached.
    """
    open_engine(f"sqlite:///{path}", writer=True).dispose()  # schema through the real migrations
    engine = create_engine(f"sqlite:///{path}")
    story = load_stories()[0]
    texts = ["\n\n".join(story.paragraphs)]
    for n in range(2, per_article + 1):
        texts.append(texts[-1] + f"\n\nUpdate {n}: officials confirmed the details late on day {n}.")
    blobs = [pack(t, texts[i - 1] if i else None) for i, t in enumerate(texts)]  # v1 whole, then deltas
    hashes = [json.dumps([digest(comparable(p)) for p in paragraphs(t)]) for t in texts]
    stamps = [(T0 - timedelta(days=400, hours=-n)).strftime("%Y-%m-%d %H:%M:%S.000000") for n in range(per_article + 1)]
    sha = "0" * 64
    start = time.perf_counter()
    articles = versions // per_article
    done = 0
    batch = 2000
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=OFF")
        conn.exec_driver_sql("PRAGMA synchronous=OFF")
    for first in range(1, articles + 1, batch):
        ids = range(first, min(first + batch, articles + 1))
        with engine.begin() as conn:
            cur = conn.connection.driver_connection.cursor()
            cur.executemany("INSERT INTO articles (id, key, host, status, first_seen, last_checked, last_changed, "
                            "version_count, key_sha256) VALUES (?, ?, ?, 'live', ?, ?, ?, ?, ?)",
                            [(a, f"https://site{a % 50}.example/news/{a}", f"site{a % 50}.example", stamps[0],
                              stamps[-1], stamps[-1], per_article, key_sha256(f"https://site{a % 50}.example/news/{a}"))
                             for a in ids])
            cur.executemany("INSERT INTO article_urls (article_id, url, first_seen) VALUES (?, ?, ?)",
                            [(a, f"https://site{a % 50}.example/news/{a}", stamps[0]) for a in ids])
            cur.executemany(
                "INSERT INTO versions (article_id, number, captured_at, title, byline, published, text_blob, "
                "text_sha256, words, paragraph_hashes, noise_hashes, extractor, change_kinds, added_words, "
                "removed_words, declared, drift, text_base) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', 'synthetic', ?, ?, ?, ?, 0, ?)",
                [(a, n, stamps[n], f"{story.title} {a}", story.byline, story.published, blobs[n - 1], sha,
                  len(texts[n - 1].split()), hashes[n - 1],
                  None if n == 1 else '["body-edit"]', None if n == 1 else 3, None if n == 1 else 2,
                  None if n == 1 else n % 2, None if n == 1 else n - 1)
                 for a in ids for n in range(1, per_article + 1)])
            cur.close()
        done = ids[-1]
        if time.perf_counter() - start > budget:
            break
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        count = conn.execute(text("SELECT count(*) FROM versions")).scalar_one()
    engine.dispose()
    return {"db": str(path), "articles": done, "versions": count, "seconds": time.perf_counter() - start,
            "bytes": path.stat().st_size, "url": f"https://site{(done // 2) % 50}.example/news/{done // 2}"}


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        print(edit_history(Path(tmp)))
        print(synthetic_archive(Path(tmp) / "big.db", 200_000))
