"""Issue 6 benchmark: crawl throughput, re-crawl speed, storage, view latency and crawl memory.

Everything runs on loopback, side by side in one process run; see bench/README.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archive.text.textpack import FULL_EVERY
from bench import proc, realpages, startup
from bench.corpus import HOSTS, Corpus, serve
from bench.history import edit_history, synthetic_archive

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
FORBIDDEN = ("scrapy", "twisted", "trafilatura")


@dataclass
class Row:
    """One line of the results table."""

    what: str
    measured: str
    anchor: str
    ratio: float | None = None
    met: bool | None = None   # None: information only, no target
    value: float | None = None


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def timed(args: list[str]) -> float:
    """Wall time of one child process, which must succeed."""
    start = time.perf_counter()
    subprocess.run(args, cwd=ROOT, env=proc.ENV, check=True, capture_output=True)
    return time.perf_counter() - start


def outcomes(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT outcome, count(*) FROM fetches GROUP BY outcome").fetchall())


# -- rows 1, 2 and 5: crawls -------------------------------------------------------------------------

def extract_loop(pages: list[tuple[str, str]]) -> float:
    """Pages per second of extract_page over ``pages`` in this one process."""
    from scraper.extract import extract_page

    start = time.perf_counter()
    for url, html in pages:
        extract_page(html, url)
    return len(pages) / (time.perf_counter() - start)


def crawl_once(corpus: Corpus, db: Path, settings: dict[str, str] | None = None,
               strict: bool = True) -> dict[str, Any]:
    """One real ``redline crawl`` of the whole corpus; pages/s end to end and after the first request.
    ``strict``: every page must be fetched and make no failure (real pages may fail to extract)."""
    corpus.reset()
    start = time.perf_counter()
    run, summary = proc.crawl(str(db), corpus.urls, settings, sample=True)
    end = start + run.wall
    n = len(corpus.urls)
    if summary["fetched"] != n or (strict and summary["failed"]):
        raise RuntimeError(f"crawl did not fetch every page cleanly: {summary}")
    return {"wall_s": run.wall, "pages_per_s": n / run.wall, "startup_s": corpus.first_hit() - start,
            "in_crawl_pages_per_s": n / (end - corpus.first_hit()), "not_modified": corpus.not_modified(),
            "tree_rss_mb": run.tree_rss_mb, "tree_pss_mb": run.tree_pss_mb, "process_peak_max_mb": run.hwm_max_mb,
            "process_peaks_sum_mb": run.hwm_sum_mb,
            "main_cpu_s": run.main_cpu_s, "workers_cpu_s": run.other_cpu_s, "load_1m": os.getloadavg()[0],
            "cores_busy": run.cores_busy, "summary": summary}


def crawl_rows(corpus: Corpus, work: Path, first_reps: int, re_reps: int) -> tuple[list[Row], dict[str, Any]]:
    """First crawl vs single-process extraction (interleaved), then 304 and identical-body re-crawls."""
    from scraper.extract import extract_page

    pages = corpus.pages()
    extract_page(pages[0][1], pages[0][0])  # import and warm trafilatura outside the timing
    warm = proc.crawl(str(work / "warm.db"), corpus.urls[:1])[0]  # warm caches; start-up cost of one page
    chunks = [pages[i::3] for i in range(3)]
    base, first = [], []
    for i, chunk in enumerate(chunks):
        log(f"single-process extraction, chunk {i + 1}/3 ({len(chunk)} pages)")
        base.append(extract_loop(chunk))
        if i < first_reps:
            log(f"first crawl {i + 1} ({len(corpus.urls)} pages)")
            first.append(crawl_once(corpus, work / f"first{i}.db"))
    base_rate = statistics.median(base)
    first_rate = statistics.median(r["pages_per_s"] for r in first)
    in_crawl = statistics.median(r["in_crawl_pages_per_s"] for r in first)
    db = work / "first0.db"
    cond, same = [], []
    for i in range(re_reps):
        log(f"re-crawls {i + 1}/{re_reps}: conditional (304), then identical bytes")
        before = outcomes(db)
        cond.append(crawl_once(corpus, db))
        after = outcomes(db)
        cond[-1]["outcomes"] = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
        same.append(crawl_once(corpus, db, {"REDLINE_CONDITIONAL": "False"}))
        final = outcomes(db)
        same[-1]["outcomes"] = {k: final[k] - after.get(k, 0) for k in final if final[k] != after.get(k, 0)}
    cond_rate = statistics.median(r["pages_per_s"] for r in cond)
    same_rate = statistics.median(r["pages_per_s"] for r in same)
    all_runs = first + cond + same
    tree = max(r["tree_rss_mb"] for r in all_runs)
    pss = max(r["tree_pss_mb"] for r in all_runs)
    single = max(r["process_peak_max_mb"] for r in all_runs)
    bound = max(r["process_peaks_sum_mb"] for r in all_runs)
    n = len(corpus.urls)
    cpus = os.cpu_count() or 1
    main_cpu = statistics.median(r["main_cpu_s"] for r in first)
    workers_cpu = statistics.median(r["workers_cpu_s"] for r in first)
    ceiling = (n / base_rate) / max((main_cpu + workers_cpu) / cpus, main_cpu)
    rows = [
        Row(f"1. first crawl, {n} pages, pool of {os.cpu_count()} (pages/s)", f"{first_rate:.2f}",
            f"1-process extract_page {base_rate:.2f}/s; >= 1.6x", first_rate / base_rate,
            first_rate / base_rate >= 1.6, first_rate),
        Row("   same, from first request to exit (pages/s)", f"{in_crawl:.2f}",
            f"start-up {statistics.median(r['startup_s'] for r in first):.1f} s excluded", in_crawl / base_rate),
        Row("   CPU per page: crawl process + extraction workers (ms)",
            f"{main_cpu / n * 1000:.0f} + {workers_cpu / n * 1000:.0f}",
            f"1-process {1000 / base_rate:.0f} ms; best possible on {cpus} CPUs", ceiling),
        Row("2a. re-crawl, 304 Not Modified (pages/s)", f"{cond_rate:.2f}", f"first crawl {first_rate:.2f}/s; >= 3.5x",
            cond_rate / first_rate, cond_rate / first_rate >= 3.5, cond_rate),
        Row("2b. re-crawl, identical bytes, no conditional (pages/s)", f"{same_rate:.2f}",
            f"first crawl {first_rate:.2f}/s; >= 3.5x", same_rate / first_rate, same_rate / first_rate >= 3.5,
            same_rate),
        Row("   re-crawl 304: start-up (spawn to first request) / wall (s)",
            f"{statistics.median(r['startup_s'] for r in cond):.1f} / "
            f"{statistics.median(r['wall_s'] for r in cond):.1f}",
            "information"),
        *memory_rows(f"{n} pages, all crawls", tree, bound, single, pss),
    ]
    checks = {"every first crawl made a new article per page": all(r["summary"]["new_articles"] == n for r in first),
              "every conditional re-crawl page was answered 304": all(r["not_modified"] == n for r in cond),
              "every identical-bytes page was recorded as same-body": all(r["outcomes"] == {"same-body": n}
                                                                          for r in same)}
    detail = {"checks": checks, "pages": n, "page_bytes_total": corpus.total_bytes(), "workers": os.cpu_count(),
              "warmup_one_url_crawl_s": warm.wall, "extract_loop_pages_per_s": base, "first_crawls": first,
              "recrawls_304": cond, "recrawls_identical": same, "peak_tree_rss_mb_all_runs": tree}
    return rows, detail


REAL_HOSTS = [f"127.0.0.{i}" for i in range(40, 64)]
REAL_SETTINGS = {"CONCURRENT_REQUESTS_PER_DOMAIN": "4"}  # issue 16's setting; the rest is proc.CRAWL_FAST


def trafilatura_loop(pages: list[tuple[str, str]]) -> float:
    """Pages per second of plain ``trafilatura.extract`` over ``pages`` in this one process."""
    import trafilatura

    start = time.perf_counter()
    for url, html in pages:
        trafilatura.extract(html, url=url)
    return len(pages) / (time.perf_counter() - start)


def real_rows(work: Path, reps: int) -> tuple[list[Row], dict[str, Any]]:
    """Row 1 on real pages: first crawls interleaved with one process running trafilatura.extract."""
    real = realpages.load()
    copies = -(-300 // len(real))  # each page at this many URLs, to reach 300 URLs
    corpus = realpages.serve(real, REAL_HOSTS, copies)
    try:
        pages = corpus.pages()
        n, distinct = len(pages), len(pages) // copies
        trafilatura_loop(pages[:2])  # import and warm outside the timing
        chunks = [pages[i::3] for i in range(3)]
        base, full, first = [], [], []
        for i, chunk in enumerate(chunks):
            log(f"real pages: trafilatura.extract, then extract_page (what the workers run), chunk {i + 1}/3 "
                f"({len(chunk)} pages)")
            base.append(trafilatura_loop(chunk))
            full.append(extract_loop(chunk))
            if i < reps:
                log(f"real pages: first crawl {i + 1} ({n} URLs on {len(REAL_HOSTS)} hosts)")
                first.append(crawl_once(corpus, work / f"real{i}.db", REAL_SETTINGS, strict=False))
        again = []
        for i in range(reps):
            log(f"real pages: re-crawl {i + 1}/{reps} (304 Not Modified)")
            again.append(crawl_once(corpus, work / "real0.db", REAL_SETTINGS, strict=False))
    finally:
        corpus.stop()
    base_rate, full_rate = statistics.median(base), statistics.median(full)
    rate = statistics.median(r["pages_per_s"] for r in first)
    recrawl = statistics.median(r["pages_per_s"] for r in again)
    in_crawl = statistics.median(r["in_crawl_pages_per_s"] for r in first)
    main_ms = statistics.median(r["main_cpu_s"] for r in first) / n * 1000
    workers_ms = statistics.median(r["workers_cpu_s"] for r in first) / n * 1000
    cores = [statistics.median(r["cores_busy"][c] for r in first) for c in range(len(first[0]["cores_busy"]))]
    tree = statistics.median((r["main_cpu_s"] + r["workers_cpu_s"]) / (r["wall_s"] * len(cores)) for r in first)
    rows = [
        Row(f"1r. first crawl, real pages: {n} URLs ({distinct} pages x {copies}), {len(REAL_HOSTS)} hosts (pages/s)",
            f"{rate:.2f}", f"1-process trafilatura.extract {base_rate:.2f}/s; >= 1.6x", rate / base_rate,
            rate / base_rate >= 1.6, rate),
        Row("   same, from first request to exit (pages/s)", f"{in_crawl:.2f}",
            f"start-up {statistics.median(r['startup_s'] for r in first):.1f} s excluded", in_crawl / base_rate),
        Row("   same first crawl against 1-process extract_page (pages/s)", f"{rate:.2f}",
            f"extract_page {full_rate:.2f}/s (metadata, dates, teaser links)", rate / full_rate),
        Row("   CPU per page: crawl process alone + extraction workers (ms)", f"{main_ms:.1f} + {workers_ms:.1f}",
            f"1-process trafilatura.extract {1000 / base_rate:.0f} ms, extract_page {1000 / full_rate:.0f} ms"),
        Row("2r. re-crawl of the real pages, 304 Not Modified (pages/s)", f"{recrawl:.2f}",
            f"first crawl {rate:.2f}/s; >= 3.5x", recrawl / rate, recrawl / rate >= 3.5, recrawl),
        Row("   CPU busy during the crawl, per core (machine-wide)", " / ".join(f"{c:.0%}" for c in cores),
            f"crawl process tree alone: {tree:.0%} of {len(cores)} cores"),
    ]
    outcomes = first[0]["summary"]["outcomes"]
    # A copy whose page still declares the first copy's identity elsewhere (a JSON-LD @id) joins that article:
    # fetched and extracted all the same, recorded as unchanged.
    checks = {"every real-page URL made a new article (or joined its other copy's), or failed to extract":
              all(r["summary"]["outcomes"] == outcomes for r in first) and outcomes.get("new-article", 0) >= distinct
              and sum(outcomes.get(k, 0) for k in ("new-article", "unchanged", "extract-failed")) == n,
              # the URLs of an article two copies joined share one ETag, so one of them gets 200, unchanged
              "every real-page re-crawl recorded nothing new, >= 98% of it answered 304":
                  all(r["not_modified"] >= 0.98 * n and r["summary"]["outcomes"] == {"unchanged": n} for r in again)}
    rows[0].what += f"; {outcomes.get('extract-failed', 0)} failed to extract" * bool(outcomes.get("extract-failed"))
    return rows, {"checks": checks, "urls": n, "distinct_pages": distinct, "copies": copies,
                  "hosts": len(REAL_HOSTS), "trafilatura_loop_pages_per_s": base,
                  "extract_page_pages_per_s": full, "first_crawls": first, "recrawls_304": again}


def startup_rows(work: Path, reps: int) -> tuple[list[Row], dict[str, Any]]:
    """Row 7: one-URL crawl and a run with nothing due, against ``import scrapy``, in one run."""
    found = startup.measure(work, reps)
    floor, new, existing = (found[k]["median_s"] for k in ("floor", "new", "existing"))
    run, child = found["run"]["median_s"], found["child"]["median_s"]
    over = f"floor (python -c 'import scrapy') {floor:.2f} s; <= floor + 1.5 s"
    return [
        Row("7. redline crawl of one URL, default politeness, new archive (s)", f"{new:.2f} (+{new - floor:.2f})",
            over, (new - floor) / 1.5, new - floor <= 1.5, new),
        Row("   same, into an existing archive (s)", f"{existing:.2f} (+{existing - floor:.2f})", over,
            (existing - floor) / 1.5, existing - floor <= 1.5, existing),
        Row(f"7. redline schedule run, nothing due, {startup.TRACKED:,} tracked, empty feed (s)", f"{run:.2f}",
            "< 1 s (bench frontier: the same at 100k-10M)", run, run < 1, run),
        Row("   its crawl child alone, as the scheduler starts it (s)", f"{child:.2f}", "< 1 s", child, child < 1,
            child),
    ], found


def memory_rows(label: str, tree: float, bound: float, single: float, pss: float) -> list[Row]:
    """Row 5: the target applies to the upper bound (the peaks of the processes alive together, summed)."""
    return [Row(f"5. crawl peak RSS, process tree, {label} (MB)", f"{bound:.0f}", "<= 500 MB (peaks of the "
                "processes alive together, summed)", bound / 500, bound <= 500, bound),
            Row("   sampled tree RSS / tree PSS / largest process (MB)", f"{tree:.0f} / {pss:.0f} / {single:.0f}",
                "information")]


# -- rows 3 and 4: storage and views -------------------------------------------------------------------

def history_rows(history: dict[str, Any]) -> list[Row]:
    git = history["git_pack_bytes"]
    red = history["redline_bytes"]
    versions = history["versions"]
    return [
        Row(f"3. {versions - 1}-edit history, Redline text_blob sum (B)", f"{red:,}",
            f"git gc --aggressive pack {git:,} B; <= 0.5x", red / git, red / git <= 0.5, red),
        Row("   plain text, all versions (B)", f"{history['plain_bytes']:,}", "vs git pack",
            history["plain_bytes"] / git),
        Row("   zstd -19 of each version alone (B)", f"{history['zstd_each_bytes']:,}", "vs git pack",
            history["zstd_each_bytes"] / git),
    ] + [Row(f"   Redline text if FULL_EVERY = {k} (B)", f"{size:,}", "vs git pack; <= 0.5x", size / git)
         for k, size in list(history["if_full_every"].items())[1:]] + [
        Row(f"   Archive.record of version {versions} (ms)", f"{history['record_s'][-1] * 1000:.0f}",
            f"version 2: {history['record_s'][1] * 1000:.0f} ms", history["record_s"][-1] / history["record_s"][1]),
    ]


def imports_of(args: list[str]) -> list[str]:
    """Crawler modules (scrapy, twisted, trafilatura) a command imports, from ``-X importtime``."""
    done = subprocess.run([proc.PY, "-X", "importtime", *args], cwd=ROOT, env=proc.ENV, capture_output=True,
                          text=True, check=True)
    names = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")]
    return sorted({n for n in names if n.split(".")[0] in FORBIDDEN})


def view_rows(history: dict[str, Any], big: dict[str, Any], reps: int,
              big_diff: bool) -> tuple[list[Row], dict[str, Any]]:
    """View commands vs the floor ``python -c "import sqlalchemy.orm"``, interleaved, medians of ``reps``
    runs after one discarded warm-up round."""
    view = [proc.PY, "-m", "redline", "--db"]
    commands = {
        "floor": [proc.PY, "-c", "import sqlalchemy.orm"],
        "log": [*view, history["db"], "log", history["url"]],
        "diff": [*view, history["db"], "diff", history["url"]],
        "log_big": [*view, big["db"], "log", big["url"]],
        "diff_big": [*view, big["db"], "diff", big["url"]],
    }
    if not big_diff:
        del commands["diff_big"]
    times: dict[str, list[float]] = {k: [] for k in commands}
    for rep in range(reps + 1):
        for name, args in commands.items():
            took = timed(args)
            if rep:  # the first round only warms the page cache
                times[name].append(took)
    med = {k: statistics.median(v) for k, v in times.items()}
    floor = med["floor"]
    crawler = {name: imports_of(commands[name][1:]) for name in ("log", "diff", "log_big")}
    bad = sorted({m for mods in crawler.values() for m in mods})
    size = f"{big['versions']:,} versions / {big['articles']:,} articles"
    rows = [Row(f"4. redline log, {history['versions']} versions (s)", f"{med['log']:.3f}",
                f"floor {floor:.3f} s; <= 1.3x", med["log"] / floor, med["log"] / floor <= 1.3, med["log"]),
            Row("4. redline diff, previous -> latest (s)", f"{med['diff']:.3f}", f"floor {floor:.3f} s; <= 1.3x",
                med["diff"] / floor, med["diff"] / floor <= 1.3, med["diff"]),
            Row(f"4. redline log, archive of {size} (s)", f"{med['log_big']:.3f}", f"floor {floor:.3f} s; <= 1.3x",
                med["log_big"] / floor, med["log_big"] / floor <= 1.3, med["log_big"]),
            *([Row("   redline diff on that archive (s)", f"{med['diff_big']:.3f}", f"floor {floor:.3f} s; <= 1.3x",
                   med["diff_big"] / floor, med["diff_big"] / floor <= 1.3, med["diff_big"])] if big_diff else []),
            Row("4. view commands import scrapy/twisted/trafilatura", ", ".join(bad) or "none", "none",
                None, not bad)]
    return rows, {"runs_s": times, "medians_s": med, "crawler_imports": crawler, "synthetic_archive": big}


# -- row 6: the web view ---------------------------------------------------------------------------------

def web_rows(big: dict[str, Any], reps: int) -> tuple[list[Row], dict[str, Any]]:
    """p50 / p95 of each page against the trivial route of the same server, in the same run."""
    from bench.web import LONG, measure

    found = measure(Path(big["db"]), reps)
    p50, p95 = found["p50_ms"], found["p95_ms"]
    anchor = f"trivial route p50 {p50['trivial']:.1f} / p95 {p95['trivial']:.1f} ms; p95 < 100 ms and < 10x"
    labels = {"changes": "Changes page (50 newest)", "timeline": f"timeline of {LONG} versions",
              "diff": f"diff v{LONG - 1} -> v{LONG}", "feed": "Atom feed of all changes"}
    rows = [Row(f"6. web, {big['versions']:,} versions: {label}, p50 / p95 (ms)",
                f"{p50[k]:.1f} / {p95[k]:.1f} (p50 {p50[k] / p50['trivial']:.0f}x)", anchor,
                p95[k] / p95["trivial"], p95[k] < 100 and p95[k] / p95["trivial"] < 10, p95[k])
            for k, label in labels.items()]
    return rows, found


# -- optional: a 2,000-page crawl ----------------------------------------------------------------------

def big_crawl_rows(work: Path, pages: int) -> tuple[list[Row], dict[str, Any]]:
    log(f"building {pages} pages for the large crawl")
    corpus = serve(pages)
    try:
        log(f"large crawl ({pages} pages)")
        run = crawl_once(corpus, work / "large.db")
    finally:
        corpus.stop()
    return [*memory_rows(f"{pages} fresh pages", run["tree_rss_mb"], run["process_peaks_sum_mb"],
                         run["process_peak_max_mb"], run["tree_pss_mb"]),
            Row("   that crawl (pages/s)", f"{run['pages_per_s']:.2f}", "information")], run


def big_real_rows(work: Path, pages: int) -> tuple[list[Row], dict[str, Any]]:
    """Row 5 on real pages: one first crawl of ``pages`` URLs, each real page served at many URLs."""
    real = realpages.load()
    corpus = realpages.serve(real, REAL_HOSTS, -(-pages // len(real)))
    corpus.urls = corpus.urls[:pages]
    try:
        log(f"large real-page crawl ({len(corpus.urls)} URLs)")
        run = crawl_once(corpus, work / "large-real.db", REAL_SETTINGS, strict=False)
    finally:
        corpus.stop()
    return [*memory_rows(f"{len(corpus.urls)} real-page URLs", run["tree_rss_mb"], run["process_peaks_sum_mb"],
                         run["process_peak_max_mb"], run["tree_pss_mb"]),
            Row("   that crawl (pages/s)", f"{run['pages_per_s']:.2f}", "information")], run


# -- output -----------------------------------------------------------------------------------------------

def table(rows: list[Row]) -> str:
    head = ("what", "measured", "anchor / target", "ratio", "met")
    cells = [head] + [(r.what, r.measured, r.anchor, "" if r.ratio is None else f"{r.ratio:.2f}x",
                       "-" if r.met is None else "yes" if r.met else "NO") for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    lines = ["  ".join(c[i].ljust(widths[i]) if i != 3 else c[i].rjust(widths[i]) for i in range(len(head)))
             for c in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def environment() -> dict[str, Any]:
    from importlib.metadata import version

    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "packages": {p: version(p) for p in ("scrapy", "trafilatura", "sqlalchemy", "zstandard", "pebble")},
            "git": subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()}


FIDELITY_HOSTS = [f"127.0.0.{i}" for i in range(30, 36)]


def fidelity_rows(result: dict[str, Any]) -> list[Row]:
    """Issue 11's real-page fidelity figures, Redline beside the naive trafilatura + sha256 tracker."""
    red, naive = result["redline"], result["naive"]

    def row(what: str, attr: str, of: str, target_zero: bool = False) -> Row:
        got, total = getattr(red, attr), getattr(red, of)
        met = got == 0 if target_zero else got == total
        return Row(what, f"{got}/{total}", f"naive tracker {getattr(naive, attr)}/{getattr(naive, of)}", None, met)

    rows = [row("edits caught (a new version in the round of the edit)", "caught", "edits"),
            row("edits whose diff (or show) shows the edit", "shown", "edits"),
            row("false versions (noise-only fetches)", "false_versions", "noise_fetches", target_zero=True),
            row("declared updates carrying their declared time", "declared_time", "declared"),
            Row("appended corrections recorded as kind 'correction'", f"{red.corrections_kind}/{red.corrections}",
                "naive tracker: no change kinds", None, red.corrections_kind == red.corrections),
            Row("one paragraph added to 10 articles of a site: recorded, kind 'site-wide'",
                f"{red.site_wide_kind}/{red.site_wide}", "naive tracker: no change kinds", None,
                red.site_wide_kind == red.site_wide),
            Row("404 / 500 then restored: events, no version", f"{red.outage_events}/{red.outages}",
                "naive tracker: no events", None, red.outage_events == red.outages),
            Row("a copy at another URL naming the original as canonical: an article of its own, related, "
                "none of its text in the original", f"{red.copies_apart}/{red.copies}",
                "naive tracker: one history per URL", None, red.copies_apart == red.copies)]
    kinds: dict[str, list[Any]] = {}
    for edit in result["edits"]:
        kinds.setdefault(edit.kind, []).append(edit)
    for kind, edits in kinds.items():
        rows.append(Row(f"   {kind}: caught / shown", f"{sum(e.caught for e in edits)} / {sum(e.shown for e in edits)}"
                        f" of {len(edits)}", f"naive {sum(e.naive_caught for e in edits)} / "
                        f"{sum(e.naive_shown for e in edits)}"))
    return rows


def fidelity_main(keep: bool) -> None:
    """``python -m bench fidelity``: the real-page fidelity scenario, Redline beside the naive tracker."""
    from bench.fidelity import Scenario
    from bench.fidelity import run as run_rounds

    started = datetime.now(UTC)
    with workdir("fidelity", keep) as work:
        db = work / "fidelity.db"
        log("loading the real pages")
        scenario = Scenario(realpages.load(), FIDELITY_HOSTS, per_kind=5)
        try:
            result = run_rounds(scenario, str(db), lambda urls: proc.crawl(
                str(db), urls, {"RETRY_TIMES": "1", "DOWNLOAD_TIMEOUT": "10"})[1], naive=True, log=log)
        finally:
            scenario.stop()
    rows = fidelity_rows(result)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"fidelity-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps({k: asdict(v) if hasattr(v, "__dataclass_fields__") else v for k, v in
                               {**result, "edits": [asdict(e) for e in result["edits"]]}.items()},
                              indent=1, default=str) + "\n", "utf-8")
    print(f"Redline fidelity on real pages: {result['pages']} pages at {result['urls']} URLs on "
          f"{len(FIDELITY_HOSTS)} loopback sites, {len(result['crawl_s'])} crawl rounds "
          f"(median {statistics.median(result['crawl_s']):.1f} s), {result['stamped_urls']} URLs with render stamps "
          f"(a per-request 'Page generated' line and JSON-LD dateModified); skipped: {result['skipped']}")
    print(table(rows))
    wrong = [e for e in result["edits"] if not (e.caught and e.shown)]
    print(f"\nedits Redline missed or did not show: {len(wrong)}" + "".join(f"\n  - {e.describe()}" for e in wrong))
    print(f"false versions: {len(result['false_versions'])}" + "".join(f"\n  - {f}" for f in result["false_versions"]))
    for problem in result["outage_problems"]:
        print(f"outage not recorded as expected: {problem}")
    print(f"results: {out.relative_to(ROOT)}")


def frontier_rows(result: dict[str, Any], sizes: list[int]) -> list[Row]:
    """Wall and peak RSS per size; the ratio is the largest archive against the smallest (target: flat)."""
    small, big = sizes[0], sizes[-1]
    names = {"due": "6. redline due --limit 100", "run": "6. schedule run, nothing due",
             "read": "6. in-process: due(limit=100) + due_urls"}
    rows = []
    for what, label in names.items():
        by = result[what]
        for n in sizes:
            ratio = by[n]["wall_s"] / by[small]["wall_s"]
            memory = f" / {by[n]['peak_rss_mb']:.0f} MB" if what != "read" else ""
            rows.append(Row(f"{label}, {n:,} tracked (s{' / MB' * bool(memory)})", f"{by[n]['wall_s']:.4f} s{memory}",
                            f"{small:,}: {by[small]['wall_s']:.3f} s; flat (<= 1.2x)" if n != small else "anchor",
                            ratio if n != small else None, ratio <= 1.2 if n == big and n != small else None))
    return rows


@contextmanager
def workdir(name: str, keep: bool, bytecode: bool = True) -> Iterator[Path]:
    """A fresh temporary folder for one benchmark (with its own bytecode cache), removed afterwards unless kept."""
    work = Path(tempfile.mkdtemp(prefix=f"redline-{name}-"))
    if bytecode:
        proc.use_bytecode_cache(work / "pycache")
    try:
        yield work
    finally:
        if keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def save_result(name: str, started: datetime, load: tuple[float, float, float], result: dict[str, Any],
                rows: list[Row]) -> Path:
    """``bench/results/NAME-TIME.json``: the environment, the load at both ends, what was measured, the rows."""
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{name}-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps({"started": started.isoformat(), "load_average_start": load,
                               "load_average_end": os.getloadavg(), "environment": environment(),
                               "result": result, "rows": [asdict(r) for r in rows]}, indent=1, default=str) + "\n")
    return out


def frontier_main(sizes: list[int], keep: bool) -> None:
    from bench.frontier import measure

    started = datetime.now(UTC)
    load = os.getloadavg()
    with workdir("frontier", keep) as work:
        result = measure(work, sizes, reps=5)
    rows = frontier_rows(result, sizes)
    out = save_result("frontier", started, load, result, rows)
    print(f"Redline frontier benchmark: {', '.join(f'{n:,}' for n in sizes)} tracked URLs, {os.cpu_count()} CPUs, "
          f"1-minute load {load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; medians of 5 "
          "interleaved runs, peak RSS = largest process's VmHWM")
    print(table(rows))
    print(f"results: {out.relative_to(ROOT)}")


def deltas_main(keep: bool) -> None:
    from bench.deltas import main as measure

    started = datetime.now(UTC)
    load = os.getloadavg()
    with workdir("deltas", keep) as work:
        shown, result = measure(work, log)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"deltas-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps({"started": started.isoformat(), "load_average_start": load,
                               "load_average_end": os.getloadavg(), "environment": environment(),
                               "result": result}, indent=1, default=str) + "\n")
    print(f"Redline raw-body deltas (issue 28): {os.cpu_count()} CPUs, 1-minute load {load[0]:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end")
    print(shown)
    print(f"results: {out.relative_to(ROOT)}")


def browser_main(count: int, keep: bool) -> None:
    from bench.browser import measure
    from bench.browser import table as browser_table

    started = datetime.now(UTC)
    load = os.getloadavg()
    with workdir("browser", keep) as work:
        rows, result = measure(work, count, log)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"browser-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps({"started": started.isoformat(), "load_average_start": load,
                               "environment": environment(), "result": result}, indent=1, default=str) + "\n")
    print(f"Redline through a browser (issue 26): {os.cpu_count()} CPUs, 1-minute load {load[0]:.1f} at the start, "
          f"{result['load_average_end'][0]:.1f} at the end")
    print(browser_table(rows))
    print(f"results: {out.relative_to(ROOT)}")


def search_main(versions: int, keep: bool) -> None:
    from bench.search import measure

    started = datetime.now(UTC)
    load = os.getloadavg()
    with workdir("search", keep, bytecode=False) as work:
        result = measure(work, versions)
    rows = [Row(f"search, {versions:,} versions: {kind} (median / p95)",
                f"{v['median_ms']:.1f} / {v['p95_ms']:.1f} ms", "p95 < 100 ms", v["p95_ms"] / 100, None)
            for kind, v in result["kinds"].items()]
    rows.append(Row(f"search, {versions:,} versions: every query (median / p95)",
                    f"{result['all']['median_ms']:.1f} / {result['all']['p95_ms']:.1f} ms", "p95 < 100 ms",
                    result["all"]["p95_ms"] / 100, result["all"]["p95_ms"] < 100))
    out = save_result("search", started, load, result, rows)
    print(f"Redline search benchmark: {versions:,} versions of distinct texts ({result['size_mb']:.0f} MB, built "
          f"in {result['build_s']:.0f} s), limit 50, 20 interleaved rounds, {os.cpu_count()} CPUs, 1-minute load "
          f"{load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    print(table(rows))
    print(f"results: {out.relative_to(ROOT)}")


def screenshots_main(limit: int | None) -> None:
    from bench.screenshots import FORMATS, measure

    started = datetime.now(UTC)
    load = os.getloadavg()
    result = measure(limit)
    rows = []
    for fmt, _quality in FORMATS:
        found = result[fmt]
        chosen = " (chosen)" if fmt == FORMATS[0][0] else ""
        rows.append(Row(f"screenshot, {fmt}{chosen}: bytes (median / p95)",
                        f"{found['bytes']['median'] / 1000:,.0f} / {found['bytes']['p95'] / 1000:,.0f} kB", "-"))
        rows.append(Row(f"screenshot, {fmt}{chosen}: seconds (median / p95)",
                        f"{found['seconds']['median']:.2f} / {found['seconds']['p95']:.2f} s", "-"))
    out = save_result("screenshots", started, load, result, rows)
    print(f"Redline screenshots: {result['pages']} real pages, 1280 wide, {os.cpu_count()} CPUs, 1-minute load "
          f"{load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; "
          f"{result[FORMATS[0][0]]['cut']} pages cut at 16,000 px")
    print(table(rows))
    print(f"results: {out.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["mutations"]:  # its own arguments: mutation names, --list
        from bench.mutations import main as mutations_main
        return mutations_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("what", nargs="?", choices=["all", "real", "fidelity", "frontier", "search", "deltas",
                                                      "browser", "mutations", "screenshots"],
                        default="all",
                        help="'real': only row 1r (first crawls of real pages), about 2 minutes; "
                             "'fidelity': only the real-page fidelity scenario (issue 11), about 3 minutes; "
                             "'frontier': due and a run with nothing due at 100k, 1M, 10M tracked URLs (issue 16); "
                             "'search': redline search over 1M versions of distinct texts (100k with --quick); "
                             "'deltas': what a re-fetch of a real page stores, raw bodies as deltas (issue 28; ~4 min); "
                             "'screenshots': the bytes and seconds a screenshot costs, WebP and PNG, over the real "
                             "pages (issue 26; 40 pages with --quick); "
                             "'browser': pages per second and peak memory through Chromium, real pages as "
                             "script-rendered copies, the static path beside it (issue 26; --quick: 20 pages); "
                             "'mutations': break each README promise in a copy of the tree, one line at a time, and "
                             "list the breaks no test noticed (issue 27; 'mutations --help')")
    parser.add_argument("--quick", action="store_true", help="smaller corpus and archive (about a minute)")
    parser.add_argument("--large", type=int, default=0, metavar="N",
                        help="also crawl N fresh pages to measure memory (e.g. 2000; adds minutes)")
    parser.add_argument("--large-real", type=int, default=0, metavar="N",
                        help="also crawl N real-page URLs (e.g. 5000) to measure memory (issue 16; adds minutes)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary working directory")
    parser.add_argument("--web", action="store_true", help="only row 6 (the web view) on the synthetic archive")
    args = parser.parse_args(argv)
    if args.what == "fidelity":
        return fidelity_main(args.keep)
    if args.what == "deltas":
        return deltas_main(args.keep)
    if args.what == "screenshots":
        return screenshots_main(40 if args.quick else None)
    if args.what == "browser":
        return browser_main(20 if args.quick else 60, args.keep)
    if args.what == "search":
        return search_main(100_000 if args.quick else 1_000_000, args.keep)
    if args.what == "frontier":
        return frontier_main([100_000, 1_000_000] if args.quick else [100_000, 1_000_000, 10_000_000], args.keep)
    started = datetime.now(UTC)
    clock = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="redline-bench-"))
    proc.use_bytecode_cache(work / "pycache")
    # pages, first crawls, re-crawl rounds, synthetic versions, view runs
    pages, first_reps, re_reps, versions, reps = (80, 1, 2, 100_000, 5) if args.quick else (300, 2, 3, 1_000_000, 7)
    results: dict[str, Any] = {"started": started.isoformat(), "mode": "quick" if args.quick else "full",
                               "environment": environment(), "load_average_start": os.getloadavg()}
    rows: list[Row] = []
    if args.what == "real":
        try:
            rows, results["real_pages"] = real_rows(work, 3)
            log("row 7: start-up, 5 interleaved rounds")
            startup_found, results["startup"] = startup_rows(work, 5)
            rows += startup_found
            if args.large_real:
                large, results["large_real_crawl"] = big_real_rows(work, args.large_real)
                rows += large
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(table(rows))
        failed = [name for name, ok in results["real_pages"]["checks"].items() if not ok]
        if failed:
            print("CHECKS FAILED (numbers above may be wrong): " + "; ".join(failed))
        return
    if args.web:
        try:
            log(f"row 6: synthetic archive of {versions:,} versions")
            big = synthetic_archive(work / "big.db", versions, budget=90)
            log(f"row 6: redline serve, {reps * 40} interleaved requests per route")
            rows, results["web"] = web_rows(big, reps * 40)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        results["rows"] = [asdict(r) for r in rows]
        print(table(rows))
        return
    try:
        log(f"serving {pages} pages on {len(HOSTS)} loopback hosts")
        corpus = serve(pages)
        try:
            crawl, results["crawl"] = crawl_rows(corpus, work, first_reps, re_reps)
        finally:
            corpus.stop()
        real, results["real_pages"] = real_rows(work, 1 if args.quick else 2)
        log(f"row 7: start-up, {3 if args.quick else 5} interleaved rounds")
        started_rows, results["startup"] = startup_rows(work, 3 if args.quick else 5)
        results["crawl"]["checks"].update(results["real_pages"]["checks"])
        log("row 3: 50-edit history through Archive.record, git and zstd")
        history = edit_history(work)
        results["history"] = history
        results["crawl"]["checks"].update({
            "every edit made a new version": history["new_versions"] == history["versions"] - 1,
            "textpack model reproduces the stored size":
                history["if_full_every"][FULL_EVERY] == history["redline_bytes"],
        })
        log(f"row 4: synthetic archive of {versions:,} versions")
        big = synthetic_archive(work / "big.db", versions, budget=90)
        log(f"row 4: view commands, {reps} interleaved runs each")
        views, results["views"] = view_rows(history, big, reps, big_diff=not args.quick)
        log(f"row 6: redline serve, {reps * 40} interleaved requests per route")
        web, results["web"] = web_rows(big, reps * 40)
        rows = (crawl[:3] + real + crawl[3:-2] + history_rows(history) + views + web + started_rows
                + crawl[-2:])  # memory rows last
        if args.large:
            large, results["large_crawl"] = big_crawl_rows(work, args.large)
            rows += large
        if args.large_real:
            large, results["large_real_crawl"] = big_real_rows(work, args.large_real)
            rows += large
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    results["runtime_s"] = time.perf_counter() - clock
    results["load_average_end"] = os.getloadavg()
    results["rows"] = [asdict(r) for r in rows]
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(results, indent=1, default=str) + "\n", "utf-8")
    print(f"Redline benchmark ({results['mode']}): {pages} pages of "
          f"{results['crawl']['page_bytes_total'] / pages / 1024:.0f} KB average, {os.cpu_count()} CPUs, "
          f"{results['runtime_s']:.0f} s")
    busy = results["load_average_start"][0]
    if busy > 0.5:
        print(f"warning: the machine was busy before the run (1-minute load average {busy:.1f} on "
              f"{os.cpu_count()} CPUs); crawl ratios and view timings are pessimistic")
    print(table(rows))
    missed = [r.what.strip() for r in rows if r.met is False]
    print(f"\ntargets missed: {len(missed)} of {sum(r.met is not None for r in rows)}" +
          "".join(f"\n  - {m}" for m in missed))
    failed = [name for name, ok in results["crawl"]["checks"].items() if not ok]
    if failed:
        print("CHECKS FAILED (numbers above may be wrong): " + "; ".join(failed))
    print(f"results: {out.relative_to(ROOT)}")
