"""Check that the archive was not altered: bodies, version texts, records, the chain and its anchors.

:func:`verify` recomputes every raw body's sha256 from its stored bytes, every version's text from
its delta chain and that text's sha256, every screenshot image's sha256, the canonical JSON of every
chained fetch, version, event and screenshot
(each against its latest chain row, in that row's record format, so what a claim rests on, such as
a version's change kinds, declared flag and declared times, or a "gone" event, is checked with it)
and every link of the chain, and checks stored RFC 3161 tokens and heads published earlier against
the rows they name. Every problem is named, in chain order, with what was expected and what was
found. Rows after the last anchor (a valid token or a published head) are reported as an
unanchored tail: deleting them would leave no trace.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, LargeBinary, func, select

from archive.capture import IMPORT_MARKER, ORIGIN_MARKER
from archive.proof import chain
from archive.queries import iso
from archive.queries.bodies import BodyReader
from archive.schema import tables as t
from archive.text.textpack import unpack

F, V, E, C, S = t.fetches, t.versions, t.events, t.chain, t.screenshots
TABLES = {"fetch": F, "version": V, "event": E, "screenshot": S}
BATCH = 500  # records read per query
HEAD = re.compile(r"redline-chain:(\d+):([0-9a-f]{64})")


@dataclass
class Problem:
    """One broken link: which record, what was expected, what was found."""

    record: str
    expected: str
    found: str

    def __str__(self) -> str:
        return f"{self.record}: expected {self.expected}, found {self.found}"


@dataclass
class Report:
    """What verification checked and what it found wrong."""

    head: tuple[int, str]
    links: int = 0
    bodies: int = 0
    versions: int = 0
    timestamps: int = 0
    screenshots: int = 0  # screenshot images hashed
    backfilled: int = 0
    imported: int = 0  # versions whose capture 'redline import' took from a file: not observed here
    chained_since: datetime | None = None
    anchored: int = 0  # the last row a valid timestamp token or a published head commits to
    problems: list[Problem] = field(default_factory=list)

    @property
    def unanchored(self) -> int:
        """Rows after the last anchor: a deleted tail among them would leave no trace."""
        return max(self.head[0] - self.anchored, 0)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": not self.problems, "head": chain.head_string(*self.head), "links": self.links,
                "bodies": self.bodies, "versions": self.versions, "screenshots": self.screenshots,
                "timestamps": self.timestamps,
                "backfilled": self.backfilled, "imported": self.imported, "chained_since": iso(self.chained_since),
                "anchored": self.anchored, "unanchored": self.unanchored,
                "problems": [{"record": p.record, "expected": p.expected, "found": p.found} for p in self.problems]}


def parse_head(text: str) -> tuple[int, str]:
    """(seq, digest) of a published head string; ValueError for anything else.

    >>> parse_head("redline-chain:12:" + "ab" * 32)[0]
    12
    """
    found = HEAD.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"{text!r} is not a chain head (redline-chain:SEQ:DIGEST, as 'redline verify --head' prints)")
    return int(found.group(1)), found.group(2)


def verify(engine: Engine, article_id: int | None = None, trust: list[bytes] | None = None,
           published: Sequence[tuple[int, str]] = ()) -> Report:
    """Check the whole archive, or one article's records (the chain's links are always all checked).

    ``trust`` holds PEM root certificates for the timestamp authorities; without them a token's
    imprint and signature chain are still checked against the certificates the token carries.
    ``published`` holds heads (seq, digest) published earlier: each must still be a row of the chain.
    """
    with engine.connect() as conn:
        report = Report(chain.head(conn))
        keys = dict(conn.execute(select(t.articles.c.id, t.articles.c.key)).all())
        _links(conn, report)
        _records(conn, report, keys, article_id)
        _bodies(conn, report, keys, article_id)
        _texts(conn, report, keys, article_id)
        _screenshots(conn, report, keys, article_id)
        report.imported = _imported(conn, article_id)
        digests = dict(conn.execute(select(C.c.seq, C.c.digest)).all())
        _timestamps(conn, report, trust or [], digests)
        _published(report, published, digests)
    return report


def _links(conn: Connection, report: Report) -> None:
    seq, prev = 0, chain.GENESIS
    for row in conn.execute(select(C).order_by(C.c.seq)):
        seq += 1
        report.links += 1
        if row.backfilled:
            report.backfilled += 1
        elif report.chained_since is None:
            report.chained_since = row.recorded_at
        where = f"chain row {row.seq} ({row.kind} {row.record_id})"
        if row.seq != seq:
            report.problems.append(Problem(f"chain row after {seq - 1}", f"row {seq}", f"row {row.seq} (rows deleted)"))
            seq = row.seq
        if row.prev != prev:
            report.problems.append(Problem(where, f"previous digest {prev}", row.prev))
        digest = chain.link(row.seq, row.prev, row.content_sha256)
        if digest != row.digest:
            report.problems.append(Problem(where, f"digest {digest}", row.digest))
        prev = row.digest


def _records(conn: Connection, report: Report, keys: dict[int, str], article_id: int | None) -> None:
    """Each chained record against its latest chain row (a later row for a record is an amendment)."""
    rows = select(C.c.seq, C.c.kind, C.c.record_id, C.c.article_id, C.c.format, C.c.content_sha256).order_by(C.c.seq)
    if article_id is not None:
        rows = rows.where(C.c.article_id == article_id)
    latest = {(link.kind, link.record_id): link for link in conn.execute(rows)}
    links = sorted(latest.values(), key=lambda link: link.seq)
    for start in range(0, len(links), BATCH):
        batch = links[start:start + BATCH]
        found = {kind: {r.id: r for r in conn.execute(select(*_small(table)).where(table.c.id.in_(
            [link.record_id for link in batch if link.kind == kind])))} for kind, table in TABLES.items()}
        for link in batch:
            _check_record(report, keys, link, found.get(link.kind, {}).get(link.record_id))
    for kind, table in TABLES.items():
        query = select(table.c.id, table.c.article_id)
        if article_id is not None:
            query = query.where(table.c.article_id == article_id)
        for row in conn.execute(query.order_by(table.c.id)):
            if (kind, row.id) not in latest:
                report.problems.append(Problem(f"{kind} {row.id} of {keys.get(row.article_id)}", "a chain row",
                                               "none (recorded outside the chain)"))


def _small(table: Any) -> list[Any]:
    """A table's columns but its blobs (texts, images), which no record holds: a batch stays small."""
    return [column for column in table.c if not isinstance(column.type, LargeBinary)]


def _check_record(report: Report, keys: dict[int, str], link: Any, record: Any) -> None:
    name = f"{link.kind} {link.record_id} of {keys.get(link.article_id, f'article {link.article_id}')}"
    if record is None:
        report.problems.append(Problem(name, f"the record chained at row {link.seq}", "no such record (deleted)"))
        return
    if link.kind == "version":
        name = f"version {record.number} of {keys.get(record.article_id)} (id {record.id})"
    if link.kind in chain.FIELDS and link.format <= chain.FORMAT:
        content = chain.sha256_hex(chain.canonical(chain.record(link.kind, keys.get(record.article_id, ""), record,
                                                                link.format)))
    else:  # written by a newer Redline: this one cannot vouch for the record
        content = f"a record of kind {link.kind!r}, format {link.format}, unknown to this version of Redline"
    if content != link.content_sha256:
        report.problems.append(Problem(f"{name} (chain row {link.seq})", f"content sha256 {link.content_sha256}",
                                       content))


def _bodies(conn: Connection, report: Report, keys: dict[int, str], article_id: int | None) -> None:
    """Rebuild every raw body from its delta chain and hash it: a damaged body fails with every body
    stored against it, since none of them can be read back."""
    bodies = BodyReader(conn)
    for sha in _body_order(conn, article_id):
        report.bodies += 1
        try:
            found = hashlib.sha256(bodies.read(sha)).hexdigest()
        except Exception as exc:  # zstd raises its own error types for damaged frames
            found = f"unreadable data ({exc})"
        if found != sha:
            raw = conn.execute(select(F.c.id).where(F.c.body_sha256 == sha).order_by(F.c.id)).scalars().all()
            dom = conn.execute(select(F.c.id).where(F.c.rendered_sha256 == sha).order_by(F.c.id)).scalars().all()
            names = ", ".join([*(f"raw body of fetch {i}" for i in raw), *(f"rendered DOM of fetch {i}" for i in dom)])
            report.problems.append(Problem(f"{names or 'raw body of no fetch'} (sha256 {sha})", f"sha256 {sha}",
                                           found))


def _body_order(conn: Connection, article_id: int | None) -> Iterator[str]:
    """Each body once (raw bodies and rendered DOMs): by article, in fetch order (so each delta's base was
    just decoded), then any other."""
    query = select(F.c.body_sha256, F.c.rendered_sha256).order_by(F.c.article_id, F.c.id)
    if article_id is not None:
        query = query.where(F.c.article_id == article_id)
    seen: set[str | None] = {None}
    for pair in conn.execute(query):
        for sha in pair:
            if sha not in seen:
                seen.add(sha)
                yield sha
    if article_id is None:
        yield from (sha for sha in conn.execute(select(t.bodies.c.sha256).order_by(t.bodies.c.sha256)).scalars()
                    if sha not in seen)


def _texts(conn: Connection, report: Report, keys: dict[int, str], article_id: int | None) -> None:
    query = select(V.c.article_id, V.c.number, V.c.text_blob, V.c.text_base, V.c.text_sha256)
    if article_id is not None:
        query = query.where(V.c.article_id == article_id)
    for article, number, found, expected in _version_texts(conn, query.order_by(V.c.article_id, V.c.number)):
        report.versions += 1
        if found != expected:
            report.problems.append(Problem(f"version {number} of {keys.get(article)}", f"text sha256 {expected}",
                                           found))


def _screenshots(conn: Connection, report: Report, keys: dict[int, str], article_id: int | None) -> None:
    """Hash every stored screenshot image, one at a time (each may be a few hundred kilobytes)."""
    query = select(S.c.id, S.c.article_id, S.c.sha256, V.c.number).join(V, V.c.id == S.c.version_id).order_by(S.c.id)
    if article_id is not None:
        query = query.where(S.c.article_id == article_id)
    for shot in conn.execute(query).all():
        report.screenshots += 1
        image = conn.scalar(select(S.c.image).where(S.c.id == shot.id)) or b""
        found = hashlib.sha256(image).hexdigest()
        if found != shot.sha256:
            name = f"screenshot {shot.id} of version {shot.number} of {keys.get(shot.article_id)}"
            report.problems.append(Problem(name, f"image sha256 {shot.sha256}", found))


def _imported(conn: Connection, article_id: int | None) -> int:
    """Versions made from imported captures (their fetch's chained Content-Type carries the mark)."""
    marked = F.c.content_type.contains(IMPORT_MARKER) | F.c.content_type.contains(f"{ORIGIN_MARKER}=import:")
    query = select(func.count()).select_from(V.join(F, F.c.id == V.c.fetch_id)).where(marked)
    if article_id is not None:
        query = query.where(V.c.article_id == article_id)
    return conn.scalar(query) or 0


def _version_texts(conn: Connection, query: Any) -> Iterator[tuple[int, int, str, str]]:
    """(article id, number, sha256 of the text rebuilt from its delta chain, stored sha256)."""
    texts: dict[int, str | None] = {}
    current = None
    for row in conn.execute(query):
        if row.article_id != current:
            current, texts = row.article_id, {}
        base = texts.get(row.text_base) if row.text_base is not None else None
        try:
            if row.text_base is not None and base is None:
                raise ValueError(f"its base version {row.text_base} is unreadable")
            text = unpack(row.text_blob, base)
            found = hashlib.sha256(text.encode("utf-8")).hexdigest()
        except Exception as exc:  # zstd and UTF-8 errors on a damaged blob
            text, found = None, f"unreadable text ({exc})"
        texts[row.number] = text
        yield row.article_id, row.number, found, row.text_sha256


def _timestamps(conn: Connection, report: Report, trust: list[bytes], digests: dict[int, str]) -> None:
    from archive.proof.timestamps import check_token

    for row in conn.execute(select(t.chain_timestamps).order_by(t.chain_timestamps.c.id)):
        report.timestamps += 1
        name = f"timestamp {row.id} of chain row {row.seq} ({row.tsa_url})"
        if digests.get(row.seq) != row.digest:
            report.problems.append(Problem(name, f"chain row {row.seq} digest {row.digest}",
                                           _missing(report, row.seq, digests)))
            continue
        error = check_token(row.token, chain.head_string(row.seq, row.digest), trust)
        if error:
            report.problems.append(Problem(name, "a valid token over this head", error))
        else:
            report.anchored = max(report.anchored, row.seq)


def _published(report: Report, heads: Sequence[tuple[int, str]], digests: dict[int, str]) -> None:
    for seq, digest in heads:
        if digests.get(seq) == digest:
            report.anchored = max(report.anchored, seq)
        else:
            report.problems.append(Problem(f"published head {chain.head_string(seq, digest)}",
                                           f"chain row {seq} digest {digest}", _missing(report, seq, digests)))


def _missing(report: Report, seq: int, digests: dict[int, str]) -> str:
    """What stands where an anchor's row should be."""
    if seq in digests:
        return digests[seq]
    if seq > report.head[0]:
        return f"no such row: the chain ends at row {report.head[0]}, so rows after it were deleted"
    return "no such row (deleted)"
