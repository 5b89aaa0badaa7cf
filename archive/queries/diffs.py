"""Diffs between two versions, and the change a version made (for alerts and samples)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, select

from archive.errors import ArchiveError, ReversedRange
from archive.queries.articles import REF, ArticleRef, article, ref_of, short_id
from archive.queries.common import A, Db, E, V, connected, iso
from archive.queries.history import CAPTURED_BEFORE, EventEntry, VersionEntry, version_entry, version_row, with_fields
from archive.queries.sitewide import groups_of
from archive.vocab import EventKind

if TYPE_CHECKING:
    from archive.text.diff import Op, Paragraph, Where


@dataclass
class FieldChange:
    """One metadata field in the two versions of a diff."""

    old: str | None
    new: str | None

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass
class VersionStamp:
    """Which version one side of a diff is."""

    version: int
    captured_at: datetime


@dataclass
class Diff:
    """Two versions and what changed between them.

    ``changes`` are the changed pieces only (insert, delete or replace, holding the changed text);
    ``paragraphs`` is the whole compared text, paragraph by paragraph, as word-level spans.
    ``old_text`` and ``new_text`` are the compared texts (without noise paragraphs, by default).
    """

    url: str
    old: VersionStamp
    new: VersionStamp
    title: FieldChange
    byline: FieldChange
    updated: FieldChange        # the declared modification time
    changes: list[Op]
    paragraphs: list[Paragraph]
    old_text: str
    new_text: str
    published: FieldChange | None = None  # the declared publication time
    where: list[Where] = field(default_factory=list)  # for each of ``changes``: its paragraph and sentence
    reverts_to: int | None = None  # the newer version's flip-flop mark: an earlier version it is identical to
    with_noise: bool = False

    def as_json(self, context: bool = False) -> dict[str, Any]:
        """The shape of ``redline diff --json`` (README, JSON contract), here so that the CLI and citation
        bundles (``archive.cite``) print the same thing; ``context`` (``--context``) adds each change's
        paragraph number and sentence."""
        changes = [{"op": o.op, "old": o.old, "new": o.new} for o in self.changes]
        if context:
            for change, where in zip(changes, self.where, strict=True):
                change.update(paragraph=where.paragraph, context=where.context)
        return {"url": self.url, "from": self.old.version, "to": self.new.version,
                "from_captured_at": iso(self.old.captured_at), "to_captured_at": iso(self.new.captured_at),
                "title": asdict(self.title), "byline": asdict(self.byline), "updated": asdict(self.updated),
                "changes": changes}

    @property
    def identical(self) -> bool:
        """No change in the compared text, title, byline or declared update time."""
        return not self.changes and not (self.title.changed or self.byline.changed or self.updated.changed)


def diff(db: Db, url: str, old: int | None = None, new: int | None = None, *, with_noise: bool = False) -> Diff:
    """Two versions and the word-level operations between them (default: the latest version and the one
    captured before it). A range whose ``old`` was captured after its ``new`` is refused (ReversedRange).

    Noise paragraphs (counters, teasers, template blocks) are left out unless ``with_noise``.
    """
    with connected(db) as conn:
        ref = article(conn, url)
        if old is None and new is None:
            if ref.version_count < 2:
                raise ArchiveError(f"{url} has only {ref.version_count} version(s); nothing to diff yet")
            b = version_row(conn, ref, None, url)
            before = conn.execute(CAPTURED_BEFORE, {"article": ref.id, "at": b.captured_at, "number": b.number})
            a = before.first() or version_row(conn, ref, -2, url)
        else:
            a, b = version_row(conn, ref, old, url), version_row(conn, ref, new, url)
            _in_order(a, b)
        return _diff(conn, ref, a, b, with_noise)


def _in_order(a: Row[Any], b: Row[Any]) -> None:
    """Refuse a range whose FROM was captured after its TO: read as a change, it would turn an added
    sentence into a deleted one. Versions are ordered by capture time (then number, as ``log`` lists them):
    an imported older snapshot can have a higher number than a version captured after it."""
    if (a.captured_at, a.number) > (b.captured_at, b.number):
        raise ReversedRange(f"version {a.number} (captured {iso(a.captured_at)}) was captured after version "
                           f"{b.number} (captured {iso(b.captured_at)}): give the earlier version first, "
                           f"{b.number} then {a.number}")


def _diff(conn: Connection, ref: ArticleRef, a: Row[Any], b: Row[Any], with_noise: bool) -> Diff:
    from archive.queries.reading import SiteNoise, read_pair
    from archive.text.diff import locate, paragraph_spans, word_ops

    old_text, new_text = read_pair(conn, a, b)
    if not with_noise:
        noise = SiteNoise(conn, ref.host)
        old_text, new_text = noise.significant_text(old_text, a), noise.significant_text(new_text, b)
    ops = word_ops(old_text, new_text)
    return Diff(ref.url, VersionStamp(a.number, a.captured_at), VersionStamp(b.number, b.captured_at),
                FieldChange(a.title, b.title), FieldChange(a.byline, b.byline), FieldChange(a.updated, b.updated),
                [o for o in ops if o.op != "equal"], paragraph_spans(ops), old_text, new_text,
                FieldChange(a.published, b.published), locate(ops), b.reverts_to, with_noise)


@dataclass(frozen=True)
class VersionChange:
    """A version, how it changed, and its diff against the version captured before it (for alerts)."""

    entry: VersionEntry
    diff: Diff
    short_id: str  # the article's ID, as the web view's permalinks (/a/ID/diff/N/M) name it


def version_change(db: Db, article_id: int, number: int) -> VersionChange:
    """Version ``number`` of article ``article_id`` and its diff against the version captured before it."""
    with connected(db) as conn:
        row = conn.execute(REF.where(A.c.id == article_id)).first()
        if row is None:
            raise ArchiveError(f"no archived article with id {article_id}")
        ref = ref_of(row)
        b = version_row(conn, ref, number, ref.url)
        a = conn.execute(CAPTURED_BEFORE, {"article": ref.id, "at": b.captured_at, "number": b.number}).first()
        if a is None:
            raise ArchiveError(f"version {number} of {ref.url} is its first; it has no change")
        entry = version_entry(b, groups_of(conn, [b.id]).get(b.id))
        with_fields(conn, ref.id, [entry])
        return VersionChange(entry, _diff(conn, ref, a, b, False), short_id(conn, ref))


@dataclass
class EventChange:
    """A takedown or restoration (for alerts): the event, the article's URL and ID, and the version that
    was its latest then (``entry``: its title and number)."""

    event: EventEntry
    url: str
    entry: VersionEntry
    short_id: str


def event_change(db: Db, article_id: int, number: int, event_id: int) -> EventChange:
    """Event ``event_id`` of article ``article_id``, with its version ``number``."""
    with connected(db) as conn:
        row = conn.execute(REF.where(A.c.id == article_id)).first()
        if row is None:
            raise ArchiveError(f"no archived article with id {article_id}")
        ref = ref_of(row)
        e = conn.execute(select(E.c.kind, E.c.at, E.c.detail, E.c.id)
                         .where(E.c.id == event_id, E.c.article_id == article_id)).first()
        if e is None:
            raise ArchiveError(f"no event {event_id} of {ref.url}")
        entry = version_entry(version_row(conn, ref, number, ref.url))
        return EventChange(EventEntry(EventKind(e.kind), e.at, e.detail, e.id), ref.url, entry, short_id(conn, ref))


def latest_change(db: Db) -> tuple[int, int] | None:
    """(article id, version number) of the change captured last in the whole archive (drift aside)."""
    query = (select(V.c.article_id, V.c.number).where(V.c.number > 1, ~V.c.drift)
             .order_by(V.c.captured_at.desc(), V.c.id.desc()).limit(1))
    with connected(db) as conn:
        row = conn.execute(query).first()
    return (row.article_id, row.number) if row else None
