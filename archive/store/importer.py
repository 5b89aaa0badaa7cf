"""Import snapshots as versions: Redline's own txt, md and jsonl exports with their
``redline.history.jsonl``, raw pages read by ``scraper.imports`` (saved pages, WARCs: passed in as
``readers``, since reading them needs the extractor), and earlier archives' text files (plain text,
optionally ending with an ``Original url:`` footer, or Markdown with YAML front matter naming
``origin_url`` and ``date``).

Each file (each line of a ``.jsonl`` file) becomes one capture of its article, recorded through
:class:`archive.store.Archive`. A Redline export is replayed in the order its archive recorded it
(article by article, by version number, each event after the version it followed): what was a version
there is a version here (:meth:`archive.store.writer.Writer.apply_imported`), with the change md and
jsonl claim; events are recorded again through the store, which derives ``restored`` itself; the
history's rules and templates are added first. Other files follow the usual versioning rule, oldest
first: identical text is "unchanged", not a duplicate version. Capture times: front matter
``captured_at`` (else ``date``), jsonl ``captured_at``, a ``vNNNN-YYYYMMDDTHHMMSSZ`` export file name,
else the file's modification time (text snapshots of older archives only: a saved page needs its time
given). The stored raw body is the file's bytes (the line's, for jsonl), with a Content-Type carrying
``x-redline-import=<format>``; the extractor is ``import:<format>``. Raw pages keep their own body and
Content-Type, marked ``x-redline-origin=import:<format>``.

A snapshot whose text the article already has as a version captured in the same second (a raw capture
or event: whose fetch it already has) is counted as unchanged without recording anything, so importing
an export twice (or into its own archive) adds no fetches or versions. Versions are numbered in
recording order: importing snapshots older than an article's existing versions appends them after
those versions.

A file naming no URL is skipped with a message unless a fallback URL is given. Folders are read
recursively for ``.txt``, ``.md``, ``.markdown`` and ``.jsonl`` files and the readers' suffixes (hidden
names skipped); files named explicitly are read whatever their name. Front matter is parsed with
``yaml.safe_load`` only.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from archive.capture import IMPORT_MARKER, ORIGIN_MARKER, Capture, Extracted
from archive.errors import ArchiveError
from archive.exports.text import FOOTER, SCHEMA_VERSION, TXT_FIELDS
from archive.schema import models as m
from archive.store.facade import Archive, find_article
from archive.store.outcomes import COLLAPSE_RATIO, MIN_WORDS, fetch_outcome
from archive.store.writer import Claimed
from archive.text.normalize import BadURL, clean_text, sha256, url_key
from archive.vocab import EventKind, FetchOutcome, RecordKind

SUFFIXES = (".txt", ".md", ".markdown", ".jsonl")
URL_FIELDS = ("url", "origin_url", "original_url", "source_url")
TIME_FIELDS = ("captured_at", "date")
META_FIELDS = ("title", "byline", "published", "updated", "site_name", "language", "canonical_url", "description")
CONTENT_TYPES = {"md": f"text/markdown; charset=utf-8; {IMPORT_MARKER}=md",
                 "txt": f"text/plain; charset=utf-8; {IMPORT_MARKER}=txt",
                 "jsonl": f"application/json; {IMPORT_MARKER}=jsonl",
                 "warc": f"text/plain; charset=utf-8; {IMPORT_MARKER}=warc"}  # a WARC's text without its capture
EXPORT_NAME = re.compile(r"^v\d+-(\d{8}T\d{6}Z)\.\w+$")
URL_LINE = re.compile(r"^\s*https?://\S+\s*$", re.IGNORECASE)
FOOTER_LINE = re.compile(r"^\s*" + re.escape(FOOTER) + r"\s*(\S*)\s*$", re.IGNORECASE)
FIELD_NAMES = {label: key for key, label in TXT_FIELDS.items()}
EVENTS = frozenset(EventKind)
DERIVED_EVENTS = frozenset({EventKind.RESTORED, EventKind.RECOVERED})
UNREPLAYED = frozenset({EventKind.SCREENSHOT_FAILED})  # about a screenshot this archive never took
FIELD_LINE = re.compile(r"^(" + "|".join(map(re.escape, FIELD_NAMES)) + r"): (.*)$")


class UnreadablePath(ArchiveError):
    """A path given to import that cannot be read."""


@dataclass
class Snapshot:
    """One capture read from a file, ready to record: a text snapshot, a raw page the extractor read
    (``extracted``), or an event of a Redline history (``event``)."""

    source: str
    fmt: str
    url: str | None
    captured_at: datetime
    text: str
    body: bytes
    meta: dict[str, str | None] = field(default_factory=dict)
    number: int | None = None             # the version number in the archive it was exported from
    is_version: bool | None = None        # whether it made a version there; None: unknown, decide here
    claimed: Claimed | None = None        # what its change was there (md, jsonl)
    recorded_at: datetime | None = None   # when it was recorded there, if later than captured (recovered)
    status: int | None = 200
    error: str | None = None
    final_url: str | None = None
    content_type: str | None = None       # a raw page's own (marked as imported)
    extracted: Extracted | None = None    # a raw page's extraction
    event: str | None = None              # an event to replay (gone, failed, ...)
    after_version: int = 0                # an event's place: after this version of the source
    rendered: bytes | None = None         # the DOM a browser rendered from ``body``, the text's source


@dataclass
class SiteFacts:
    """Noise rules and learned templates read from a ``redline.history.jsonl``."""

    rules: list[tuple[str, str]] = field(default_factory=list)
    templates: list[dict[str, Any]] = field(default_factory=list)


Reader = Callable[[Path], tuple[list[Snapshot], list[str]]]


@dataclass
class ImportReport:
    """Counts of what an import did."""

    imported: int = 0
    unchanged: int = 0
    skipped: int = 0
    events: int = 0
    rules: int = 0
    templates: int = 0
    site: SiteFacts = field(default_factory=SiteFacts)


# -- reading ----------------------------------------------------------------------------------------

def collect_files(paths: Sequence[str | Path], suffixes: Sequence[str] = SUFFIXES) -> list[Path]:
    """Files to read: each file given, and the files under each folder given whose names end in one of
    ``suffixes`` (sorted)."""
    found: list[Path] = []
    for given in map(Path, paths):
        if given.is_dir():
            found += _walk(given, tuple(suffixes))
        elif given.is_file() and given.suffix.lower() == ".csv":
            raise UnreadablePath(f"cannot import {given}: a CSV is a report, not an archive; import a txt, md, "
                                 "jsonl or warc export")
        elif given.is_file():
            found.append(given)
        else:
            raise UnreadablePath(f"cannot read {given}: No such file or directory")
    return found


def _walk(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    def fail(exc: OSError) -> None:
        raise UnreadablePath(f"cannot read {exc.filename or folder}: {exc.strerror or exc}")

    files = []
    for root, dirs, names in os.walk(folder, onerror=fail):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files += [Path(root, n) for n in sorted(names) if not n.startswith(".") and n.lower().endswith(suffixes)]
    return files


def read_file(path: Path, site: SiteFacts | None = None) -> tuple[list[Snapshot], list[str]]:
    """Snapshots in one file, and messages for what had to be skipped; a history file's rules and
    templates go to ``site``."""
    try:
        data = path.read_bytes()
        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError as exc:
        raise UnreadablePath(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [f"skipped {path}: not UTF-8 text"]
    if path.suffix.lower() == ".jsonl":
        return parse_jsonl(str(path), text, site)
    when = _name_time(path.name) or mtime
    snapshot = parse_text(str(path), text, data, when)
    if snapshot is not None and snapshot.number is None and _name_number(path.name) is not None:
        snapshot.number = _name_number(path.name)  # a Redline export's file: it was a version there
        snapshot.is_version = True
    return ([snapshot], []) if snapshot else ([], [f"skipped {path}: unreadable front matter"])


def parse_text(source: str, text: str, body: bytes, fallback_time: datetime) -> Snapshot | None:
    """A txt or md snapshot; None when its front matter is not valid YAML."""
    text = text.replace("\r\n", "\n")
    split = split_front_matter(text)
    if split is None:
        content, url, found = split_txt_footer(text)
        when = as_time(found.pop("captured_at", None)) or fallback_time
        return Snapshot(source, "txt", url, when, content, body, _meta(found) if found else {})
    meta, content = split
    if meta is None:
        return None
    content, footer_url = split_footer(content)
    url = next((meta[k] for k in URL_FIELDS if isinstance(meta.get(k), str) and meta[k]), footer_url)
    when = next((t for t in (as_time(meta.get(k)) for k in TIME_FIELDS) if t), fallback_time)
    snapshot = Snapshot(source, "md", url, when, content, body, _meta(meta))
    _source_facts(snapshot, meta)
    return snapshot


def split_front_matter(text: str) -> tuple[dict[str, Any] | None, str] | None:
    """(front matter, rest) when the text opens with a ``---`` block holding a YAML mapping;
    (None, "") when that block is not valid YAML.

    >>> split_front_matter('---\\ntitle: "a: b"\\n---\\n\\nBody')
    ({'title': 'a: b'}, '\\nBody')
    >>> split_front_matter("No front matter") is None
    True
    """
    if not text.startswith("---\n"):
        return None
    lines = text.split("\n")
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        return None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError:
        return None, ""
    return (meta, "\n".join(lines[end + 1:])) if isinstance(meta, dict) else None


def split_footer(text: str) -> tuple[str, str | None]:
    """(text without a trailing ``Original url:`` footer, the footer's first URL).

    >>> split_footer("Body.\\n\\nOriginal url:\\nhttps://a.example/x\\n\\nhttps://b.example/y\\n")
    ('Body.', 'https://a.example/x')
    >>> split_footer("Body.\\nOriginal url:\\nnot a footer")
    ('Body.\\nOriginal url:\\nnot a footer', None)
    """
    content, url, _meta_found = split_txt_footer(text)
    return content, url


def split_txt_footer(text: str) -> tuple[str, str | None, dict[str, str]]:
    """``split_footer``, plus the ``Title: ...`` lines a Redline txt export puts after the URL, by field.

    >>> split_txt_footer("Body.\\n\\nOriginal url:\\nhttps://a.example/x\\n\\nTitle: A: b\\nUpdated: 2024-12-05\\n")
    ('Body.', 'https://a.example/x', {'title': 'A: b', 'updated': '2024-12-05'})
    """
    lines = text.split("\n")
    for i in range(len(lines) - 1, -1, -1):
        match = FOOTER_LINE.match(lines[i])
        if match is None:
            continue
        rest = lines[i + 1:]
        fields = [FIELD_LINE.match(line) for line in rest]
        if (match.group(1) and not URL_LINE.match(match.group(1))) or \
                not all(URL_LINE.match(line) or not line.strip() or f for line, f in zip(rest, fields)):
            return text, None, {}
        urls = [match.group(1)] if match.group(1) else [line.strip() for line, f in zip(rest, fields)
                                                        if line.strip() and not f]
        meta = {FIELD_NAMES[f.group(1)]: f.group(2).strip() for f in fields if f}
        return "\n".join(lines[:i]).rstrip(), (urls[0] if urls else None), meta
    return text, None, {}


def _source_facts(snapshot: Snapshot, raw: dict[str, Any]) -> None:
    """What a Redline md or jsonl export says about the version in its own archive: its number and, when
    the export carries them (``change_kinds`` present), its change facts, kept instead of recomputed."""
    if isinstance(raw.get("version"), int):
        snapshot.number = raw["version"]
    if "change_kinds" not in raw or "declared" not in raw:
        return
    kinds = raw.get("change_kinds")
    recovered = as_time(raw.get("recovered_at"))
    snapshot.is_version = True
    snapshot.recorded_at = recovered
    snapshot.claimed = Claimed(
        change_kinds=[str(k) for k in kinds] if isinstance(kinds, list) else None,
        added_words=_int(raw.get("added_words")), removed_words=_int(raw.get("removed_words")),
        declared=raw["declared"] if isinstance(raw.get("declared"), bool) else None,
        drift=raw.get("drift") is True, recovered_at=recovered)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_history(where: str, item: dict[str, Any], site: SiteFacts | None) -> Snapshot | str | None:
    """One ``redline.history.jsonl`` record: an event to replay, or a rule or template (added to ``site``);
    a message when it is unusable."""
    kind = item.get("record")
    if kind == "rule" and isinstance(item.get("host"), str) and isinstance(item.get("pattern"), str):
        if site is not None:
            site.rules.append((item["host"], item["pattern"]))
        return None
    if kind == "template" and all(isinstance(item.get(k), str) for k in ("host", "hash")) \
            and as_time(item.get("first_seen")):
        if site is not None:
            site.templates.append(item)
        return None
    at = as_time(item.get("at"))
    if kind != "event" or at is None or not isinstance(item.get("url"), str) or item.get("kind") not in EVENTS:
        return f"skipped {where}: not a Redline history record"
    if item["kind"] in UNREPLAYED:
        return None
    detail = item.get("detail") if isinstance(item.get("detail"), str) else None
    http = re.fullmatch(r"HTTP (\d{3})", detail or "")
    redirect = re.fullmatch(r"redirected to (\S+)", detail or "")
    return Snapshot(where, "history", item["url"], at, "", b"", is_version=False, event=item["kind"],
                    status=_int(item.get("status")) or (int(http.group(1)) if http else None),
                    error=None if http or redirect or item["kind"] in DERIVED_EVENTS else (detail or item["kind"]),
                    final_url=redirect.group(1) if redirect else None,
                    after_version=_int(item.get("after_version")) or 0)


def parse_jsonl(source: str, text: str, site: SiteFacts | None = None) -> tuple[list[Snapshot], list[str]]:
    """Snapshots from a Redline JSON Lines export (schema_version 1), and the events, rules and templates
    of a ``redline.history.jsonl``."""
    snapshots, messages = [], []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            messages.append(f"skipped {where}: not JSON")
            continue
        if not isinstance(item, dict) or item.get("schema_version") != SCHEMA_VERSION:
            messages.append(f"skipped {where}: not a schema_version {SCHEMA_VERSION} Redline record")
            continue
        if "record" in item:
            found = parse_history(where, item, site)
            if isinstance(found, str):
                messages.append(found)
            elif found is not None:
                snapshots.append(found)
            continue
        when = as_time(item.get("captured_at"))
        if when is None or not isinstance(item.get("text"), str):
            messages.append(f"skipped {where}: no captured_at or text")
            continue
        url = item.get("url") if isinstance(item.get("url"), str) else None
        snapshot = Snapshot(where, "jsonl", url or None, when, item["text"], line.encode("utf-8"), _meta(item))
        _source_facts(snapshot, item)
        snapshots.append(snapshot)
    return snapshots, messages


def as_time(value: Any) -> datetime | None:
    """A UTC datetime from YAML/JSON values: datetimes, dates, ISO strings (naive means UTC).

    >>> as_time("2024-11-12T04:10:56.812Z").isoformat()
    '2024-11-12T04:10:56.812000+00:00'
    >>> as_time("yesterday") is None
    True
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _name_number(name: str) -> int | None:
    match = re.match(r"^v(\d+)-", name)
    return int(match.group(1)) if match and EXPORT_NAME.match(name) else None


def _name_time(name: str) -> datetime | None:
    match = EXPORT_NAME.match(name)
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) if match else None


def _meta(raw: dict[str, Any]) -> dict[str, str | None]:
    values = {k: raw.get(k) for k in META_FIELDS}
    return {k: None if v in (None, "") else (v.isoformat() if isinstance(v, date) else str(v))
            for k, v in values.items()}


# -- recording --------------------------------------------------------------------------------------

def resolve_url(snapshot: Snapshot, fallback: str | None) -> str | None:
    """The snapshot's own URL, else the fallback; None when neither is usable."""
    url = snapshot.url or fallback
    if url is None:
        return None
    try:
        url_key(url)
    except BadURL:
        return None
    return url


def already_archived(archive: Archive, url: str, snapshot: Snapshot) -> bool:
    """True when the article already has a version with this text, headline and byline captured in the
    same second, so re-importing a history (or an export into its own archive) adds nothing; a headline
    changed within that second (exports keep whole seconds) is still a version of its own."""
    digest = sha256(clean_text(snapshot.text).encode("utf-8"))
    second = snapshot.captured_at.replace(microsecond=0)
    with archive.sessions() as session:
        article = find_article(session, url)
        if article is None:
            return False
        same_text = session.execute(select(m.Version.captured_at, m.Version.title, m.Version.byline).where(
            m.Version.article_id == article.id, m.Version.text_sha256 == digest))
        return any(at.replace(microsecond=0) == second and (title, byline) == (snapshot.meta.get("title"),
                                                                                 snapshot.meta.get("byline"))
                   for at, title, byline in same_text)


def already_fetched(archive: Archive, url: str, snapshot: Snapshot) -> bool:
    """True when the article already has this raw capture (same body) or this event's fetch (same outcome)
    in the same second, so importing a WARC or a history twice adds nothing."""
    second = snapshot.captured_at.replace(microsecond=0)
    with archive.sessions() as session:
        article = find_article(session, url)
        if article is None:
            return False
        if snapshot.event in DERIVED_EVENTS:  # recorded by the store when a replayed version got there
            times = session.scalars(select(m.Event.at).where(m.Event.article_id == article.id,
                                                             m.Event.kind == snapshot.event))
            return any(at.replace(microsecond=0) == second for at in times)
        same = (m.Fetch.outcome == snapshot.event) if snapshot.event else \
            (m.Fetch.body_sha256 == (sha256(snapshot.body) if snapshot.body else None))
        times = session.scalars(select(m.Fetch.fetched_at).where(m.Fetch.article_id == article.id, same))
        return any(at.replace(microsecond=0) == second for at in times)


def to_capture(snapshot: Snapshot, url: str) -> tuple[Capture, Extracted | None]:
    """The Capture and Extracted the store records for one snapshot, its Content-Type marked as imported."""
    content_type = snapshot.content_type or (None if snapshot.event else CONTENT_TYPES[snapshot.fmt])
    fetch = Capture(url=url, fetched_at=snapshot.captured_at, status=snapshot.status, error=snapshot.error,
                    final_url=snapshot.final_url, body=snapshot.body or None,
                    content_type=content_type or f"{ORIGIN_MARKER}=import:{snapshot.fmt}",
                    fetched_with="browser" if snapshot.rendered else "http", rendered=snapshot.rendered)
    if snapshot.event or (snapshot.extracted is None and snapshot.content_type):
        return fetch, None
    extracted = snapshot.extracted or Extracted(text=snapshot.text, extractor=f"import:{snapshot.fmt}",
                                                **snapshot.meta)
    return fetch, extracted


def _latest_words(archive: Archive, url: str) -> int | None:
    with archive.sessions() as session:
        article = find_article(session, url)
        if article is None or not article.latest_version:
            return None
        return session.scalar(select(m.Version.words).where(m.Version.article_id == article.id,
                                                            m.Version.number == article.latest_version))


def _why(outcome: FetchOutcome, extracted: Extracted) -> str:
    if len(extracted.text.split()) < MIN_WORDS:
        return f"text too short (under {MIN_WORDS} words)"
    return f"{outcome}: text under {COLLAPSE_RATIO:.0%} of the latest version's words"


def read_paths(paths: Sequence[str | Path], report: ImportReport,
               warn: Callable[[str], None] = lambda message: None,
               readers: dict[str, Reader] | None = None) -> list[Snapshot]:
    """Every snapshot under ``paths``; skipped files are counted in ``report`` and passed to ``warn``.
    ``readers`` read the files whose names end in their keys (raw pages and WARCs, read by ``scraper``);
    a history file's rules and templates go to ``report.site``."""
    readers = readers or {}
    snapshots: list[Snapshot] = []
    for path in collect_files(paths, SUFFIXES + tuple(readers)):
        reader = next((r for suffix, r in readers.items() if path.name.lower().endswith(suffix)), None)
        found, messages = reader(path) if reader else read_file(path, report.site)
        snapshots += found
        report.skipped += len(messages)
        for message in messages:
            warn(message)
    return snapshots


def replay_order(snapshots: Iterable[tuple[str, Snapshot]]) -> list[tuple[str, Snapshot]]:
    """(URL, snapshot) pairs in the order to record them: article by article; within one, by the source's
    version numbers with each event after the version it followed, when every version has a number
    (Redline's exports), else oldest first (recovered versions at the time they were recovered)."""
    by_article: dict[str, list[tuple[int, str, Snapshot]]] = {}
    for index, (url, snapshot) in enumerate(snapshots):
        by_article.setdefault(url_key(url), []).append((index, url, snapshot))
    ordered: list[tuple[str, Snapshot]] = []
    for items in by_article.values():
        numbered = all(s.number is not None for _i, _u, s in items if not s.event)

        def key(item: tuple[int, str, Snapshot], numbered: bool = numbered) -> tuple[Any, ...]:
            index, _url, s = item
            if numbered:
                return (s.after_version, 1, s.captured_at, index) if s.event else (s.number, 0, s.captured_at, index)
            return (s.recorded_at or s.captured_at, index)

        ordered += [(url, s) for _i, url, s in sorted(items, key=key)]
    return ordered


def add_site_facts(engine: Engine, report: ImportReport) -> None:
    """Add the noise rules and learned templates read from history files (those already here are kept)."""
    with Session(engine) as session, session.begin():
        for host, pattern in report.site.rules:
            known = select(m.SiteRule.id).where(m.SiteRule.host == host, m.SiteRule.pattern == pattern)
            if session.scalar(known) is None:
                session.add(m.SiteRule(host=host, pattern=pattern))
                report.rules += 1
        for item in report.site.templates:
            if session.get(m.TemplateParagraph, (item["host"], item["hash"])) is None:
                session.add(m.TemplateParagraph(
                    host=item["host"], hash=item["hash"], first_seen=as_time(item["first_seen"]),
                    text=item.get("text") if isinstance(item.get("text"), str) else None,
                    witnesses=_int(item.get("witnesses")), seen=_int(item.get("seen")),
                    examples=[e for e in item.get("examples") or [] if isinstance(e, str)][:3] or None))
                report.templates += 1


def record_snapshots(engine: Engine, snapshots: Iterable[Snapshot], report: ImportReport,
                     fallback_url: str | None = None, warn: Callable[[str], None] = lambda message: None) -> None:
    """Record snapshots through the store, in replay order, counting outcomes in ``report``. The history's
    rules and templates come first, so what this archive recomputes is judged by them."""
    archive = Archive(engine)
    add_site_facts(engine, report)
    usable = []
    for snapshot in snapshots:
        url = resolve_url(snapshot, fallback_url)
        if url is None:
            report.skipped += 1
            reason = f"URL {snapshot.url!r} is not http(s)" if snapshot.url else "names no URL; pass --url URL"
            warn(f"skipped {snapshot.source}: {reason}")
            continue
        usable.append((url, snapshot))
    for url, snapshot in replay_order(usable):
        _record_one(archive, url, snapshot, report, warn)


def _record_one(archive: Archive, url: str, snapshot: Snapshot, report: ImportReport,
                warn: Callable[[str], None]) -> None:
    if snapshot.event:
        if already_fetched(archive, url, snapshot):
            return
        fetch, _ = to_capture(snapshot, url)
        archive.record_imported(fetch, None, False, event=snapshot.event)
        report.events += 1
        return
    raw = snapshot.extracted is not None or snapshot.content_type is not None
    if (already_fetched(archive, url, snapshot) if raw else already_archived(archive, url, snapshot)):
        report.unchanged += 1
        return
    fetch, extracted = to_capture(snapshot, url)
    if extracted is not None and snapshot.extracted is None:  # a text snapshot: never a trace of an unusable one
        unusable = fetch_outcome(fetch, extracted, _latest_words(archive, url))
        if unusable != FetchOutcome.CONTENT:
            report.skipped += 1
            warn(f"skipped {snapshot.source}: {_why(unusable, extracted)}")
            return
    if snapshot.is_version is None:
        outcome = archive.record(fetch, extracted)
    else:
        outcome = archive.record_imported(fetch, extracted, snapshot.is_version, snapshot.claimed)
    if outcome.kind in (RecordKind.NEW_ARTICLE, RecordKind.NEW_VERSION):
        report.imported += 1
    elif outcome.kind == RecordKind.UNCHANGED:
        report.unchanged += 1
    elif raw:
        report.events += 1  # a raw capture's event (gone, blocked, ...): recorded as it was fetched
    else:
        report.skipped += 1
        warn(f"skipped {snapshot.source}: {outcome.kind}")
