"""``python -m bench mutations``: break one promise at a time and check that a test notices (issue 27).

Each mutation is one exact search/replace inside one line of one file. The whole working tree (tracked
and untracked, unignored files) is copied to a temporary directory once; each break is applied to the
copy, the tests that guard it run there (``pytest -x``, the copy first on ``PYTHONPATH``) and the file
is restored. A break no test noticed is a promise nothing checks. A pattern that no longer matches
exactly once (the code moved on) is reported as STALE with its file and text, to be re-pointed.
Not a benchmark and not part of the test run: it takes many minutes (see bench/README.md).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 1200  # seconds one guarded test run may take before the break counts as a hang


@dataclass(frozen=True)
class Mutation:
    """One one-line break of one promise, and the tests (pytest arguments) that must notice it."""

    name: str
    promise: str
    path: str
    search: str
    replace: str
    tests: tuple[str, ...]


T_SERVE = "tests/test_serve.py"
T_READING = "tests/test_reading.py"
T_NOISE = "tests/test_noise_rules.py"
T_SHOTS = "tests/test_screenshots.py"
T_BROWSER = "tests/test_browser.py"
NORMALIZE = ("--doctest-modules", "archive/text/normalize.py", "tests/test_history.py")

MUTATIONS = [
    # -- the four breaks issue 27 found unnoticed ----------------------------------------------------------
    Mutation("serve-writable", "the web view's connections refuse writes (README: The web view)",
             "redline/cli_serve.py", "app = create_app(read_only(engine(ctx)), base_url, shown_zone, fixed)",
             "app = create_app(engine(ctx), base_url, shown_zone, fixed)", (f"{T_SERVE}::test_the_engine_serve_hands_its_app_refuses_writes",)),
    Mutation("notice-as-noise", "editorial notices are never noise, whatever boilerplate detection says",
             "archive/queries/reading.py", "if is_editorial_notice(para):", "if False and is_editorial_notice(para):",
             (f"{T_NOISE}::test_a_link_dense_correction_on_a_real_page_is_a_correction",)),
    Mutation("claim-ignores-lease", "at most one sender per alert (README: Alerts)",
             "archive/watch/alerts.py", "or_(O.c.lease_until.is_(None), O.c.lease_until < now))",
             "or_(O.c.lease_until.is_(None), O.c.lease_until.is_not(None)))",
             ("tests/test_alerts.py::test_two_senders_claiming_one_alert_at_once_deliver_it_once",)),
    Mutation("verify-first-problem-only", "verify names every altered record (README: tamper-evident chain)",
             "archive/proof/verify.py", "_timestamps(conn, report, trust or [])",
             "_timestamps(conn, report, trust or []); del report.problems[1:]",
             ("tests/test_cite.py::test_every_altered_record_is_named",)),
    # -- README, "What counts as a change" -----------------------------------------------------------------
    Mutation("no-nfkc", "text is compared after Unicode NFKC normalization",
             "archive/text/normalize.py", 'unicodedata.normalize("NFKC", text)', 'unicodedata.normalize("NFC", text)',
             (*NORMALIZE, "tests/test_compare.py::test_text_is_compared_after_nfkc")),
    Mutation("zero-width-kept", "zero-width characters are removed before comparing",
             "archive/text/normalize.py", r'_COMPARE_MAP = {chr(k): "" for k in ZERO_WIDTH}',
             r'_COMPARE_MAP = {chr(k): chr(k) for k in ZERO_WIDTH}', NORMALIZE),
    Mutation("dashes-not-unified", "quotes and dashes are unified before comparing",
             "archive/text/normalize.py", r'"\u2014": "-"', r'"\u2014": "\u2014"', NORMALIZE),
    Mutation("whitespace-kept", "whitespace is collapsed before comparing",
             "archive/text/normalize.py", 'return SPACES.sub(" ", text).strip()', "return text.strip()", NORMALIZE),
    Mutation("notice-learned-as-template", "a correction is never learned as a site template",
             "archive/store/writer.py", "text is None or is_editorial_notice(text) or", "text is None or",
             (f"{T_NOISE}::test_a_correction_appended_to_every_article_is_a_correction_in_each",)),
    Mutation("correction-kind-lost", "an appended notice is the change kind 'correction'",
             "archive/text/classify.py", 'kinds.add("correction")', 'kinds.add("paragraph-added")',
             ("--doctest-modules", "archive/text/classify.py",
              f"{T_NOISE}::test_a_correction_appended_to_every_article_is_a_correction_in_each")),
    Mutation("declared-without-a-moved-stamp", "a change is declared only when the declared modification time moved",
             "archive/text/classify.py", "declared = old.updated != new.updated and new.updated is not None",
             "declared = new.updated is not None",
             ("--doctest-modules", "archive/text/classify.py",
              "tests/test_compare.py::test_an_edit_under_an_unmoved_stamp_is_stealth_not_declared")),
    Mutation("future-dates-trusted", "a declared time more than 14 hours after the fetch is not believed",
             "scraper/dates.py", "FUTURE_SKEW = timedelta(hours=14)", "FUTURE_SKEW = timedelta(days=36500)",
             (f"{T_NOISE}::test_a_future_or_pre_publication_date_is_not_a_declared_update",)),
    Mutation("template-without-evidence", "a template needs at least 5 distinct articles of the site",
             "archive/store/learning.py", "TEMPLATE_MIN_ARTICLES = 5", "TEMPLATE_MIN_ARTICLES = 1",
             (f"{T_NOISE}::test_a_paragraph_added_to_fewer_than_five_articles_is_never_a_template",)),
    Mutation("stamp-rule-unanchored", "a default rule matches a whole counter line, never a sentence that starts like one",
             "archive/text/noise.py", r'("counter", rf"^[\d.,]+\s*[km]?\s*(?:{_COUNTERS[lang]})\.?$"',
             r'("counter", rf"^[\d.,]+\s*[km]?\s*(?:{_COUNTERS[lang]})"', (f"{T_NOISE}::test_no_default_rule_swallows_prose",)),
    # -- README, "JSON contract" ---------------------------------------------------------------------------
    Mutation("list-id-is-url", "list --json: id is the article ID",
             "archive/queries/json_shapes.py", '{"id": a.short_id,', '{"id": a.url,',
             ("tests/test_cli.py::test_every_article_has_a_short_id_that_every_url_command_accepts",)),
    Mutation("fetch-noise-hidden", "log --all --json: each fetch lists the noise skipped in it",
             "archive/queries/json_shapes.py", '"noise": f.noise}', '"noise": []}',
             (f"{T_NOISE}::test_log_all_shows_each_skipped_paragraph_with_its_rule",)),
    Mutation("diff-op-renamed", "diff --json: changes carry op, old and new",
             "archive/queries/diffs.py", 'changes = [{"op": o.op, "old": o.old, "new": o.new}',
             'changes = [{"kind": o.op, "old": o.old, "new": o.new}', (f"{T_NOISE}::test_renoise_recovers_an_edit_an_over_eager_rule_hid",)),
    Mutation("verify-exits-0", "verify --json exits 1 when problems is not empty",
             "redline/cli_cite.py", "        ctx.exit(1)", "        ctx.exit(0)",
             ("tests/test_cite.py::test_every_altered_record_is_named",)),
    Mutation("crawl-failed-without-gone", "crawl --json: failed counts every fetch that recorded no version, gone included",
             "archive/crawls.py", '"unchanged": self.outcomes.get(RecordKind.UNCHANGED, 0), "failed": self.failed,',
             '"unchanged": self.outcomes.get(RecordKind.UNCHANGED, 0), "failed": self.failed - self.outcomes.get("gone", 0),',
             ("tests/test_crawl.py::test_gone_then_restored_is_events_not_versions",)),
    # -- README, the web view's security -------------------------------------------------------------------
    Mutation("no-autoescape", "templates autoescape everything",
             "redline/web/templating.py", "autoescape=True", "autoescape=False",
             (f"{T_SERVE}::test_hostile_text_is_escaped_on_every_page",)),
    Mutation("csp-allows-script", "every answer carries a CSP with default-src 'none'",
             "redline/web/app.py", "\"Content-Security-Policy\": \"default-src 'none';", "\"Content-Security-Policy\": \"default-src *;",
             (f"{T_SERVE}::test_every_answer_carries_the_security_headers",)),
    Mutation("sniffing-allowed", "every answer carries X-Content-Type-Options: nosniff",
             "redline/web/app.py", '"X-Content-Type-Options": "nosniff",', '"X-Content-Type-Options": "",',
             (f"{T_SERVE}::test_every_answer_carries_the_security_headers",)),
    Mutation("javascript-linked", "only http(s) URLs become links",
             "redline/web/markup.py", 'if scheme in ("http", "https"):', 'if scheme in ("http", "https", "javascript"):',
             ("--doctest-modules", "redline/web/markup.py")),
    # -- README, the web view's reading (issue 24) ---------------------------------------------------------
    Mutation("changes-only-no-context", "changes only: each changed paragraph with one unchanged paragraph either side",
             "redline/web/diffview.py", "range(i - context, i + context + 1)", "range(i, i + 1)",
             (f"{T_READING}::test_the_changes_only_view_counts_every_paragraph_it_leaves_out",)),
    Mutation("diff-kinds-one-too-many", "the diff page lists the change recorded in each version of its range, as log says",
             "redline/web/pages.py", "numbers.index(d.old.version) + 1:", "numbers.index(d.old.version):",
             (f"{T_READING}::test_the_diff_page_says_the_recorded_kinds_as_log_does",)),
    Mutation("permalink-ignores-base-url", "a diff's permalink is absolute under serve --base-url",
             "redline/web/pages.py", 'permalink = (request.app.state.base_url or "").rstrip("/") + path',
             "permalink = path", (f"{T_READING}::test_permalinks_and_the_citation_line",)),
    Mutation("tz-ignored", "?tz=ZONE shows a page's times in that zone",
             "redline/web/params.py", "return Clock(state.now(), zone(name) if name else state.zone)",
             "return Clock(state.now(), state.zone)",
             (f"{T_READING}::test_times_are_utc_with_the_readers_zone_and_an_age",)),
    Mutation("first-captures-kept", "first=0 hides first captures on the Changes page and in feeds",
             "archive/queries/history.py", "conditions.append(V.c.number > 1)  # as version_entry",
             "conditions.append(V.c.number > 0)  # as version_entry",
             (f"{T_READING}::test_first_captures_can_be_hidden_on_the_changes_page_and_its_feed",)),
    Mutation("empty-feed-undated", "an empty feed is dated by the archive's newest record",
             "redline/web/feeds.py", "fg.updated(changes[0].at if changes else dated(request))",
             "fg.updated(changes[0].at if changes else request.app.state.started)",
             (f"{T_READING}::test_feeds_name_their_filter_date_by_the_archive_and_show_headlines_old_to_new",)),
    # -- README, "Screenshots of versions" (need Chromium) -------------------------------------------------
    Mutation("screenshot-live-page", "a screenshot shows the archived body, not the page today",
             "scraper/screenshots.py",
             'route.fulfill(status=200, body=self.body, headers={"Content-Type": self.content_type})',
             "route.continue_()", (f"{T_SHOTS}::test_a_screenshot_taken_again_shows_the_archived_bytes_not_the_page_today",)),
    Mutation("screenshot-unmarked", "every new version of a crawl with --screenshot gets a screenshot",
             "archive/store/facade.py", "            shots.want(self.sessions)", "            pass",
             (f"{T_SHOTS}::test_every_new_version_gets_a_screenshot_of_its_archived_page",)),
    Mutation("screenshot-image-unchecked", "verify checks every screenshot image against its sha256",
             "archive/proof/verify.py", "        _screenshots(conn, report, keys, article_id)", "        pass",
             (f"{T_SHOTS}::test_a_tampered_screenshot_fails_verify",)),
    Mutation("screenshot-failure-silent", "a screenshot that fails is an event that says why",
             "archive/store/screenshots.py", 'detail=f"version {version.number}: {reason}"', "detail=None",
             (f"{T_SHOTS}::test_a_missing_browser_loses_no_version_and_says_why",)),
    Mutation("screenshot-site-default-ignored", "a site set with --screenshot has its new versions screenshotted",
             "scraper/archive_link.py", "hosts = () if self.screenshots else site_screenshot_hosts(engine)",
             "hosts = ()", (f"{T_BROWSER}::test_a_site_set_for_screenshots_gets_them_of_the_dom_its_text_came_from",)),
    # -- README, "Pages that need a browser" (need Chromium) ----------------------------------------------
    Mutation("render-auto-never-fires", "auto renders a page whose HTML is an app shell",
             "scraper/shell.py", "    return shell if len(\" \".join(seen).split()) < SHELL_MAX_WORDS else None",
             "    return None", (f"{T_BROWSER}::test_auto_renders_app_shells_and_nothing_else",)),
    Mutation("render-third-party-allowed", "the browser refuses other hosts' requests unless allowed",
             "scraper/browser.py", "            return self.third_party", "            return True",
             (f"{T_BROWSER}::test_the_browser_loads_same_host_scripts_robots_allows_and_no_other_host",)),
    Mutation("render-dom-not-exported", "a WARC and a citation carry the rendered DOM after its capture",
             "archive/exports/warc.py", "            _rendered(builder, bodies, fetch, rid)", "            pass",
             (f"{T_BROWSER}::test_a_warc_carries_the_rendered_dom_and_imports_back_with_it",)),
]


# -- running -----------------------------------------------------------------------------------------

def copy_tree(into: Path) -> None:
    """Copy the working tree's files (tracked, and untracked but not ignored) into ``into``."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)


def child_env(tree: Path, cache: Path) -> dict[str, str]:
    """The copy's packages come first for pytest and every process a test starts."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(tree), os.environ.get("PYTHONPATH")])),
               PYTHONPYCACHEPREFIX=str(cache))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def check_imports(tree: Path, env: dict[str, str]) -> None:
    """Refuse to run when the packages would be imported from anywhere but the copy."""
    code = "import archive, jobs, redline, scraper; print('\\n'.join(m.__file__ for m in (archive, jobs, redline, scraper)))"
    found = subprocess.run([sys.executable, "-c", code], cwd=tree, env=env, capture_output=True, text=True, check=True)
    stray = [f for f in found.stdout.split() if not Path(f).resolve().is_relative_to(tree.resolve())]
    if stray:
        sys.exit(f"Error: the copy's packages are shadowed by {', '.join(stray)}")


def run_tests(tree: Path, env: dict[str, str], tests: tuple[str, ...]) -> tuple[str, float, str]:
    """Run ``tests`` in the copy: ('passed' | 'failed' | 'timeout' | 'error', seconds, what failed)."""
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-rf", "-p", "no:cacheprovider", "-n", "0",
                               *tests],
                              cwd=tree, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - start, f"no result within {TIMEOUT} s"
    took = time.perf_counter() - start
    failed = re.findall(r"^FAILED (\S+)", done.stdout, re.M)
    if done.returncode == 0:
        return "passed", took, ""
    if done.returncode == 1:
        return "failed", took, failed[0] if failed else "(see pytest output)"
    tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
    return "error", took, f"pytest exit {done.returncode}: " + " | ".join(tail)


def apply(tree: Path, mutation: Mutation) -> str | None:
    """Apply ``mutation`` to the copy; the original text, or None when the pattern is stale."""
    target = tree / mutation.path
    if not target.is_file():
        return None
    original = target.read_text("utf-8")
    if "\n" in mutation.search or original.count(mutation.search) != 1:
        return None
    target.write_text(original.replace(mutation.search, mutation.replace), "utf-8")
    return original


def verdict(mutation: Mutation, tree: Path, env: dict[str, str]) -> tuple[str, float, str]:
    """What happened to ``mutation``: CAUGHT, NOT NOTICED, STALE or ERROR, its seconds and detail."""
    original = apply(tree, mutation)
    if original is None:
        count = (tree / mutation.path).read_text("utf-8").count(mutation.search) if (tree / mutation.path).is_file() else 0
        return "STALE", 0.0, f"{mutation.search!r} found {count} times in {mutation.path} (must be exactly once)"
    try:
        outcome, took, detail = run_tests(tree, env, mutation.tests)
    finally:
        (tree / mutation.path).write_text(original, "utf-8")
    labels = {"failed": "CAUGHT", "timeout": "CAUGHT (hang)", "passed": "NOT NOTICED", "error": "ERROR"}
    return labels[outcome], took, detail


def table(rows: list[tuple[str, ...]]) -> str:
    head = ("mutation", "file", "result", "seconds", "noticed by / detail")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths)) + "  " + row[4] for row in [head, *rows]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench mutations", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", metavar="NAME", help="only these mutations (default: all)")
    parser.add_argument("--list", action="store_true", help="print the mutations and the promises they break")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the first run of every guarding test on the unbroken copy")
    parser.add_argument("--keep", action="store_true", help="keep the copy of the tree")
    args = parser.parse_args(argv)
    unknown = set(args.names) - {m.name for m in MUTATIONS}
    if unknown:
        sys.exit(f"Error: no mutation named {', '.join(sorted(unknown))}; see --list")
    chosen = [m for m in MUTATIONS if not args.names or m.name in args.names]
    if args.list:
        for m in chosen:
            print(f"{m.name}: {m.promise}\n    {m.path}: {m.search!r} -> {m.replace!r}\n    tests: {' '.join(m.tests)}")
        return
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="redline-mutations-"))
    tree = work / "tree"
    try:
        copy_tree(tree)
        env = child_env(tree, work / "pycache")
        check_imports(tree, env)
        if not args.no_baseline:
            guards = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
            print(f"baseline: {len(guards)} guarding test selections on the unbroken copy ...", file=sys.stderr, flush=True)
            outcome, took, detail = run_tests(tree, env, guards)
            if outcome != "passed":
                sys.exit(f"Error: the guarding tests do not pass on the unbroken tree ({outcome}: {detail}); fix that first")
            print(f"baseline passed in {took:.0f} s", file=sys.stderr, flush=True)
        rows = []
        for m in chosen:
            print(f"{m.name} ...", file=sys.stderr, flush=True)
            result, took, detail = verdict(m, tree, env)
            rows.append((m.name, m.path, result, f"{took:.0f}", detail))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(table(rows))
    counts = {label: sum(r[2].startswith(label) for r in rows) for label in ("CAUGHT", "NOT NOTICED", "STALE", "ERROR")}
    print(f"{len(rows)} mutations: " + ", ".join(f"{n} {label.lower()}" for label, n in counts.items())
          + f"; {time.perf_counter() - started:.0f} s in all")
    sys.exit(0 if counts["CAUGHT"] == len(rows) else 1)
