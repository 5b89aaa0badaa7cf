"""Check that the archive was not altered: bodies, version texts, the chain and its timestamps.

:func:`verify` recomputes every raw body's sha256 from its stored bytes, every version's text from
its delta chain and that text's sha256, each chained record's canonical JSON and every link of the
chain, and checks stored RFC 3161 tokens against the heads they name. Problems come back in chain
order, each naming the record with what was expected and what was found.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from archive.proof import chain
from archive.queries import iso
from archive.schema import tables as t
from archive.text.textpack import decompress_body, unpack

F, V, C = t.fetches, t.versions, t.chain
BATCH = 500  # records read per query


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
    backfilled: int = 0
    chained_since: datetime | None = None
    problems: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": not self.problems, "head": chain.head_string(*self.head), "links": self.links,
                "bodies": self.bodies, "versions": self.versions, "timestamps": self.timestamps,
                "backfilled": self.backfilled, "chained_since": iso(self.chained_since),
                "problems": [{"record": p.record, "expected": p.expected, "found": p.found} for p in self.problems]}


def verify(engine: Engine, article_id: int | None = None, trust: list[bytes] | None = None) -> Report:
    """Check the whole archive, or one article's records (the chain's links are always all checked).

    ``trust`` holds PEM root certificates for the timestamp authorities; without them a token's
    imprint and signature chain are still checked against the certificates the token carries.
    """
    with engine.connect() as conn:
        report = Report(chain.head(conn))
        keys = dict(conn.execute(select(t.articles.c.id, t.articles.c.key)).all())
        _links(conn, report)
        _records(conn, report, keys, article_id)
        _bodies(conn, report, keys, article_id)
        _texts(conn, report, keys, article_id)
        _timestamps(conn, report, trust or [])
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
    tables = {"fetch": F, "version": V}
    rows = select(C).order_by(C.c.seq)
    if article_id is not None:
        rows = rows.where(C.c.article_id == article_id)
    chained: dict[str, set[int]] = {"fetch": set(), "version": set()}
    links = conn.execute(rows).all()
    for start in range(0, len(links), BATCH):
        batch = links[start:start + BATCH]
        found = {kind: {r.id: r for r in conn.execute(select(table).where(table.c.id.in_(
            [link.record_id for link in batch if link.kind == kind])))} for kind, table in tables.items()}
        for link in batch:
            chained[link.kind].add(link.record_id)
            record = found[link.kind].get(link.record_id)
            name = f"{link.kind} {link.record_id} of {keys.get(link.article_id, f'article {link.article_id}')}"
            if record is None:
                report.problems.append(Problem(name, f"the record chained at row {link.seq}",
                                               "no such record (deleted)"))
                continue
            content = chain.sha256_hex(chain.canonical(chain.record_of(link.kind, keys.get(record.article_id, ""),
                                                                       record)))
            if content != link.content_sha256:
                report.problems.append(Problem(f"{name} (chain row {link.seq})",
                                               f"content sha256 {link.content_sha256}", content))
    for kind, table in tables.items():
        query = select(table.c.id, table.c.article_id)
        if article_id is not None:
            query = query.where(table.c.article_id == article_id)
        for row in conn.execute(query.order_by(table.c.id)):
            if row.id not in chained[kind]:
                report.problems.append(Problem(f"{kind} {row.id} of {keys.get(row.article_id)}", "a chain row",
                                               "none (recorded outside the chain)"))


def _bodies(conn: Connection, report: Report, keys: dict[int, str], article_id: int | None) -> None:
    query = select(t.bodies.c.sha256, t.bodies.c.data).order_by(t.bodies.c.sha256)
    if article_id is not None:
        query = query.where(t.bodies.c.sha256.in_(
            select(F.c.body_sha256).where(F.c.article_id == article_id).scalar_subquery()))
    for sha, data in conn.execute(query):
        report.bodies += 1
        try:
            found = hashlib.sha256(decompress_body(data)).hexdigest()
        except Exception as exc:  # zstd raises its own error types for damaged frames
            found = f"unreadable data ({exc})"
        if found != sha:
            fetches = conn.execute(select(F.c.id).where(F.c.body_sha256 == sha).order_by(F.c.id)).scalars().all()
            names = ", ".join(f"fetch {i}" for i in fetches) or "no fetch"
            report.problems.append(Problem(f"raw body of {names} (sha256 {sha})", f"sha256 {sha}", found))


def _texts(conn: Connection, report: Report, keys: dict[int, str], article_id: int | None) -> None:
    query = select(V.c.article_id, V.c.number, V.c.text_blob, V.c.text_base, V.c.text_sha256)
    if article_id is not None:
        query = query.where(V.c.article_id == article_id)
    for article, number, found, expected in _version_texts(conn, query.order_by(V.c.article_id, V.c.number)):
        report.versions += 1
        if found != expected:
            report.problems.append(Problem(f"version {number} of {keys.get(article)}", f"text sha256 {expected}",
                                           found))


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


def _timestamps(conn: Connection, report: Report, trust: list[bytes]) -> None:
    from archive.proof.timestamps import check_token

    digests = dict(conn.execute(select(C.c.seq, C.c.digest)).all())
    for row in conn.execute(select(t.chain_timestamps).order_by(t.chain_timestamps.c.id)):
        report.timestamps += 1
        name = f"timestamp {row.id} of chain row {row.seq} ({row.tsa_url})"
        if digests.get(row.seq) != row.digest:
            report.problems.append(Problem(name, f"chain row {row.seq} digest {row.digest}",
                                           str(digests.get(row.seq, "no such row"))))
            continue
        error = check_token(row.token, chain.head_string(row.seq, row.digest), trust)
        if error:
            report.problems.append(Problem(name, "a valid token over this head", error))
