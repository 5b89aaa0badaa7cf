"""Search over a large archive: ``queries.search`` with a limit of 50 over N versions of distinct texts.

The archive is built straight into SQLite (after Redline's own migrations): N/5 articles with five
versions each, every text 120 words drawn from a 40,000-word vocabulary with Zipf-like frequencies and
fresh random word order, so no two texts are alike, indexed with Redline's own words
(``archive.text.words.indexed``). The queries mix common words, rare words, two- and three-word
phrases taken from stored texts, and words no text has; each is timed in this process (no start-up),
interleaved, and the table gives the median and p95 per kind and over all.
"""
from __future__ import annotations

import itertools
import random
import sqlite3
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import zstandard

from archive import queries
from archive.schema.db import database_url, open_engine
from archive.schema.tables import key_sha256
from archive.text.words import indexed

VOCABULARY = 40_000
WORDS_PER_TEXT = 120
VERSIONS_PER_ARTICLE = 5
CHUNK = 20_000


def _vocabulary(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    found: dict[str, None] = {}
    while len(found) < VOCABULARY:
        found["".join(rng.choice(letters) for _ in range(rng.randint(3, 10)))] = None
    return list(found)


def build(path: Path, versions: int, seed: int = 7) -> list[str]:
    """An archive of ``versions`` versions at ``path``; returns three stored texts to take phrases from."""
    open_engine(database_url(str(path)), writer=True).dispose()  # the schema, by Redline's migrations
    rng = random.Random(seed)
    vocab = _vocabulary(rng)
    cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(VOCABULARY)))
    zstd = zstandard.ZstdCompressor(level=1)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    samples: list[str] = []
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    articles = versions // VERSIONS_PER_ARTICLE
    for first in range(0, articles, CHUNK // VERSIONS_PER_ARTICLE):
        ids = range(first + 1, min(articles, first + CHUNK // VERSIONS_PER_ARTICLE) + 1)
        conn.executemany("INSERT INTO articles (id, key, key_sha256, host, status, first_seen, version_count) "
                         "VALUES (?, ?, ?, 'news.example', 'live', ?, ?)",
                         [(a, f"https://news.example/{a}", key_sha256(f"https://news.example/{a}"), str(start),
                           VERSIONS_PER_ARTICLE) for a in ids])
        rows, index = [], []
        for a in ids:
            for number in range(1, VERSIONS_PER_ARTICLE + 1):
                vid = (a - 1) * VERSIONS_PER_ARTICLE + number
                text = " ".join(rng.choices(vocab, cum_weights=cumulative, k=WORDS_PER_TEXT))
                title = " ".join(rng.choices(vocab, cum_weights=cumulative, k=8))
                when = str(start + timedelta(seconds=vid))
                rows.append((vid, a, number, when, title, zstd.compress(text.encode()), "0" * 64, WORDS_PER_TEXT,
                             "[]", "[]", "bench"))
                index.append((vid, indexed(title, None, text)))
                if len(samples) < 3 and vid % 997 == 0:
                    samples.append(text)
        conn.executemany("INSERT INTO versions (id, article_id, number, captured_at, title, text_blob, text_sha256, "
                         "words, paragraph_hashes, noise_hashes, extractor, drift) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)", rows)
        conn.executemany("INSERT INTO version_search (rowid, words) VALUES (?, ?)", index)
        conn.commit()
    conn.execute("INSERT INTO version_search (version_search) VALUES ('optimize')")
    conn.commit()
    conn.close()
    return samples


def _queries(samples: list[str], rng: random.Random) -> list[tuple[str, str]]:
    vocab_common = [w for text in samples for w in text.split()]
    found = []
    for text in samples:
        words = text.split()
        for size, kind in ((2, "phrase of 2"), (3, "phrase of 3")):
            i = rng.randrange(len(words) - size)
            found.append((kind, " ".join(words[i:i + size])))
    counts: dict[str, int] = {}
    for w in vocab_common:
        counts[w] = counts.get(w, 0) + 1
    ranked = sorted(counts, key=counts.get, reverse=True)  # type: ignore[arg-type]
    found += [("common word", w) for w in ranked[:3]] + [("rare word", w) for w in ranked[-3:]]
    found += [("absent word", "zzzqqq"), ("absent phrase", f"{ranked[0]} zzzqqq")]
    return found


def measure(work: Path, versions: int, rounds: int = 20) -> dict[str, Any]:
    """Build, then time every query ``rounds`` times, interleaved; per kind: median, p95, hits."""
    path = work / "search.db"
    clock = time.perf_counter()
    samples = build(path, versions)
    built = time.perf_counter() - clock
    asked = _queries(samples, random.Random(11))
    engine = open_engine(database_url(str(path)))
    times: dict[str, list[float]] = {kind: [] for kind, _ in asked}
    hits: dict[str, int] = {}
    try:
        for _ in range(rounds):
            for kind, phrase in asked:
                start = time.perf_counter()
                found = queries.search(engine, phrase, limit=50)
                times[kind].append(time.perf_counter() - start)
                hits[phrase] = len(found)
    finally:
        engine.dispose()
    every = [t for ts in times.values() for t in ts]

    def p95(values: list[float]) -> float:
        return statistics.quantiles(values, n=20)[-1]

    return {"versions": versions, "build_s": built, "size_mb": path.stat().st_size / 1e6,
            "kinds": {kind: {"median_ms": statistics.median(ts) * 1e3, "p95_ms": p95(ts) * 1e3}
                      for kind, ts in times.items()},
            "all": {"median_ms": statistics.median(every) * 1e3, "p95_ms": p95(every) * 1e3},
            "hits": hits, "queries": asked}
