"""A citable evidence bundle for one change: a WACZ a reader can replay and check by hand.

``FILE.wacz`` (built by :mod:`archive.wacz_package` with py-wacz) holds:

* ``archive/redline.warc.gz``: the request/response records of the captures behind both versions and
  the article's first capture (version 1's), with the version texts as conversion records
  (see :mod:`archive.export_warc`);
* ``pages/pages.jsonl``: one page per capture, for ReplayWeb.page;
* ``citation/citation.md``: what was captured when, the hashes, and how to check each one;
* ``citation/vN.txt`` (both versions' extracted text), ``citation/diff.txt``, ``citation/diff.html``,
  ``citation/diff.json`` (``redline diff --json``'s shape);
* ``citation/records.jsonl``: the canonical JSON of each cited fetch, version and event (and of every
  version in between), as the chain hashed it in its latest row: each claim ``citation.md`` makes
  (change kinds, declared or stealth, declared times, gone and other events) names its line and row;
* ``citation/chain.txt``: ``SEQ CONTENT_SHA256 DIGEST`` for every chain row from the first cited record
  to the head, so the chain can be recomputed to the head;
* ``citation/timestamp-SEQ.tsr`` and ``.txt``: RFC 3161 tokens over heads at or after the cited records,
  with the head text each one signs;
* ``datapackage.json`` and ``datapackage-digest.json``: the sha256 of every file (WACZ 1.1.1).

Every value taken from the web is escaped for Markdown and HTML; file names inside the bundle are fixed.
Times and IDs come from the archive, so re-running on the same versions of an unchanged archive writes
the same bytes (a later crawl moves the head, and so the chain segment).
"""
from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from archive import queries
from archive.capture import imported_from
from archive.errors import ArchiveError
from archive.exports.selection import Selected
from archive.exports.wacz import write_wacz
from archive.exports.warc import safe_uri, warc_date, write_records
from archive.proof import chain
from archive.queries import iso
from archive.queries.reading import read_text
from archive.schema import models as m
from archive.schema import tables as t
from archive.text.diff import marked


@dataclass
class Proof:
    """The chain row whose record proves a claim, and that record's line in ``citation/records.jsonl``."""

    seq: int
    line: int
    content_sha256: str
    record: dict[str, Any]


@dataclass
class CitedCapture:
    """One cited capture: its fetch row and the page it appears as."""

    fetch: m.Fetch
    uri: str
    date: str
    label: str


def write_citation(engine: Engine, url: str, old: int | None, new: int | None, out: Path,
                   diff_html: Callable[[queries.Diff], str]) -> dict[str, Any]:
    """Write the bundle for ``old`` -> ``new`` (default previous -> latest); returns a summary.

    ``diff_html`` renders ``citation/diff.html``: the fronts own how a diff looks, so the bundle carries the
    same page as the web view (``redline.web.templating.diff_document``)."""
    if not out.parent.is_dir():
        raise ArchiveError(f"directory {out.parent} does not exist for {out}")
    found = queries.diff(engine, url, old, new)
    data = {**_diff_data(found), "_html": diff_html(found)}
    changes = {v.version: v for v in queries.versions(engine, url).items}
    with Session(engine) as session:
        article = session.get(m.Article, queries.article(session, url).id)
        assert article is not None
        numbers = sorted({1, data["from"], data["to"]})
        versions = {v.number: v for v in session.scalars(select(m.Version).where(
            m.Version.article_id == article.id, m.Version.number.in_(numbers)))}
        selected = [Selected(article, versions[n], read_text(session, versions[n])) for n in numbers]
        captures = _captures(session, selected)
        between = list(session.scalars(select(m.Version).where(
            m.Version.article_id == article.id, m.Version.number > data["from"], m.Version.number < data["to"])))
        events = list(session.scalars(select(m.Event).where(m.Event.article_id == article.id)
                                      .order_by(m.Event.at, m.Event.id)))
        data["_imported"] = _imported(session, [s.version.fetch_id for s in selected]
                                      + [v.fetch_id for v in between] + [e.fetch_id for e in events])
        data["_shots"] = _screenshots(session, [s.version for s in selected])
        cited = ([("fetch", c.fetch) for c in captures] + [("version", s.version) for s in selected]
                 + [("version", v) for v in between] + [("event", e) for e in events]
                 + [("screenshot", shot) for shot in data["_shots"].values()])
        segment, records, tokens, proofs = _chain_evidence(session, article.key, cited)
        with tempfile.TemporaryDirectory(prefix="redline-cite-") as tmp:
            warc = Path(tmp, "redline.warc.gz")
            with warc.open("wb") as fh:
                write_records(fh, session, selected, False, None)
            offsets = _payload_offsets(warc)
            pages = Path(tmp, "pages.jsonl")
            pages.write_bytes(_pages(captures))
            extras = _citation_files(data, selected, captures, changes, segment, records, tokens, offsets,
                                     events, proofs)
            when = max([c.fetch.fetched_at for c in captures] + [s.version.captured_at for s in selected])
            write_wacz(out, warc, pages, extras, when=when, title=f"Redline citation: {article.key}")
    return {"url": article.key, "from": data["from"], "to": data["to"], "file": str(out),
            "captures": len(captures), "head": chain.head_string(*segment[-1][:2]) if segment else None,
            "imported": sorted(set(data["_imported"].values()))}


def _imported(session: Session, fetch_ids: list[int | None]) -> dict[int, str]:
    """Fetch id -> the format it was imported from, for the cited fetches ``redline import`` made."""
    rows = session.execute(select(m.Fetch.id, m.Fetch.content_type)
                           .where(m.Fetch.id.in_([i for i in fetch_ids if i is not None])))
    return {fid: fmt for fid, content_type in rows if (fmt := imported_from(content_type))}


def _screenshots(session: Session, versions: list[m.Version]) -> dict[int, m.Screenshot]:
    """Each cited version's latest screenshot, by version number (the WARC holds the same image)."""
    found: dict[int, m.Screenshot] = {}
    for shot in session.scalars(select(m.Screenshot).where(m.Screenshot.version_id.in_([v.id for v in versions]))
                                .order_by(m.Screenshot.id)):
        found[next(v.number for v in versions if v.id == shot.version_id)] = shot
    return found


def _diff_data(d: queries.Diff) -> dict[str, Any]:
    """The diff as the CLI's ``diff --json`` gives it (README, JSON contract), plus its marked text."""
    return {**d.as_json(), "_marked": marked(d.paragraphs)}


def _captures(session: Session, selected: list[Selected]) -> list[CitedCapture]:
    ids = sorted({s.version.fetch_id for s in selected if s.version.fetch_id is not None})
    rows = session.scalars(select(m.Fetch).where(m.Fetch.id.in_(ids), m.Fetch.body_sha256.is_not(None))
                           .order_by(m.Fetch.fetched_at, m.Fetch.id)).all()
    labels = {s.version.fetch_id: f"v{s.version.number}" for s in reversed(selected)}
    return [CitedCapture(f, safe_uri(f.final_url or f.url), warc_date(f.fetched_at), labels[f.id]) for f in rows]


def _payload_offsets(warc: Path) -> dict[str, int]:
    """Offset in the WARC of the first record holding each payload, by the payload's sha256 (hex)."""
    import hashlib

    from warcio.archiveiterator import ArchiveIterator

    found: dict[str, int] = {}
    with warc.open("rb") as fh:
        records = ArchiveIterator(fh)
        for record in records:
            if record.rec_type in ("response", "resource"):
                sha = hashlib.sha256(record.content_stream().read()).hexdigest()
                found.setdefault(sha, records.get_record_offset())
    return found


def _pages(captures: list[CitedCapture]) -> bytes:
    lines = [{"format": "json-pages-1.0", "id": "pages", "title": "Cited captures"}]
    lines += [{"id": f"capture-{c.fetch.id}", "url": c.uri, "ts": c.date, "title": f"{c.label} captured {c.date}"}
              for c in captures]
    return "".join(json.dumps(line) + "\n" for line in lines).encode("utf-8")


# -- the chain ----------------------------------------------------------------------------------

def _chain_evidence(session: Session, key: str, cited: list[tuple[str, Any]]
                    ) -> tuple[list[tuple[int, str, str, str]], list[tuple[int, str]], list[Any],
                               dict[tuple[str, int], Proof]]:
    """(seq, digest, content sha256, prev) from the first cited row to the head; (seq, canonical JSON)
    of each cited record as its latest chain row hashed it; the timestamp rows at or after the last
    cited row; and the proof of each cited (kind, id)."""
    latest = {}
    for kind, row in cited:
        link = session.execute(select(t.chain).where(t.chain.c.kind == kind, t.chain.c.record_id == row.id)
                               .order_by(t.chain.c.seq.desc()).limit(1)).first()
        if link is None:
            raise ArchiveError(f"{kind} {row.id} is not in the chain; run 'redline verify'")
        latest[link.seq] = (kind, row, link)
    first, last = min(latest), max(latest)
    segment = [(r.seq, r.digest, r.content_sha256, r.prev) for r in session.execute(
        select(t.chain).where(t.chain.c.seq >= first).order_by(t.chain.c.seq))]
    records, proofs = [], {}
    for number, seq in enumerate(sorted(latest), 1):
        kind, row, link = latest[seq]
        record = chain.record(kind, key, row, link.format)
        records.append((seq, chain.canonical(record)))
        proofs[kind, row.id] = Proof(seq, number, link.content_sha256, record)
    tokens = list(session.execute(select(t.chain_timestamps).where(t.chain_timestamps.c.seq >= last)
                                  .order_by(t.chain_timestamps.c.seq, t.chain_timestamps.c.id)))
    return segment, records, tokens, proofs


# -- the files ----------------------------------------------------------------------------------

def _citation_files(data: dict[str, Any], selected: list[Selected], captures: list[CitedCapture],
                    changes: dict[int, queries.VersionEntry], segment: list[tuple[int, str, str, str]],
                    records: list[tuple[int, str]], tokens: list[Any], offsets: dict[str, int],
                    events: list[m.Event], proofs: dict[tuple[str, int], Proof]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    by_number = {s.version.number: s for s in selected}
    for number in (data["from"], data["to"]):
        files[f"citation/v{number}.txt"] = by_number[number].text.encode("utf-8")
    files["citation/diff.txt"] = (data["_marked"] + "\n").encode("utf-8")
    files["citation/diff.html"] = data["_html"].encode("utf-8")
    public = {k: v for k, v in data.items() if not k.startswith("_")}
    files["citation/diff.json"] = (json.dumps(public, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    files["citation/records.jsonl"] = "".join(line + "\n" for _seq, line in records).encode("ascii")
    files["citation/chain.txt"] = "".join(f"{seq} {content} {digest}\n"
                                          for seq, digest, content, _prev in segment).encode("ascii")
    for token in tokens:
        files[f"citation/timestamp-{token.seq}.tsr"] = token.token
        files[f"citation/timestamp-{token.seq}.txt"] = chain.head_string(token.seq, token.digest).encode("ascii")
    files["citation/citation.md"] = _citation_md(data, selected, captures, changes, segment, records,
                                                 tokens, offsets, events, proofs).encode("utf-8")
    return dict(sorted(files.items()))


def md(value: object) -> str:
    """Text from the web made inert in Markdown: one line, every Markdown/HTML character escaped.

    >>> md('<script>alert(1)</script> *x* [a](javascript:b)')
    '\\\\<script\\\\>alert(1)\\\\</script\\\\> \\\\*x\\\\* \\\\[a\\\\](javascript:b)'
    """
    text = re.sub(r"[\x00-\x1f\x7f-\x9f]+", " ", "" if value is None else str(value))
    return re.sub(r"([\\`*_\[\]<>&|~])", r"\\\1", text)


def _citation_md(data: dict[str, Any], selected: list[Selected], captures: list[CitedCapture],
                 changes: dict[int, queries.VersionEntry], segment: list[tuple[int, str, str, str]],
                 records: list[tuple[int, str]], tokens: list[Any], offsets: dict[str, int],
                 events: list[m.Event], proofs: dict[tuple[str, int], Proof]) -> str:
    article = selected[0].article
    by_number = {s.version.number: s.version for s in selected}
    to = by_number[data["to"]]
    head_seq, head_digest = segment[-1][0], segment[-1][1]
    out = [f"# Citation: version {data['from']} → version {data['to']}", "",
           f"- Article URL: {md(article.key)}",
           f"- Canonical URL: {md(to.canonical_url or article.canonical_url or '(none declared)')}",
           f"- Title then: {md(by_number[data['from']].title)}", f"- Title now: {md(to.title)}",
           f"- Chain head: `{chain.head_string(head_seq, head_digest)}`", ""]
    imported = data["_imported"]
    if imported:
        out += [f"**Imported, not observed.** Records marked *imported* below were taken from files "
                f"({', '.join(sorted(set(imported.values())))}) by `redline import`: this archive did not fetch "
                "them, so their times, texts and events are what those files claim. The chain proves only that "
                "they have not changed since they were imported (each fetch record's `content_type` carries the "
                "mark).", ""]
    out += ["## Captures (times in UTC)", ""]
    for c in captures:
        f = c.fetch
        out += [f"### {c.label}: fetch {f.id}" + (f" (imported from {md(imported[f.id])})" if f.id in imported
                                                  else ""), "",
                f"- Captured at: {chain.stamp(f.fetched_at)}", f"- HTTP status: {f.status}",
                f"- Requested URL: {md(f.url)}", f"- Final URL after redirects: {md(f.final_url or f.url)}",
                f"- Raw body sha256: `{f.body_sha256}`; check: "
                f"`warcio extract --payload archive/redline.warc.gz {offsets.get(f.body_sha256 or '')} | sha256sum`",
                f"- {_proved(proofs['fetch', f.id], 'its status and outcome')}", ""]
    out += ["## Versions", ""]
    for number in sorted(by_number):
        v = by_number[number]
        mark = f", imported from {md(imported[v.fetch_id])}" if v.fetch_id in imported else ""
        out += [f"### Version {number}", "", f"- Captured at: {chain.stamp(v.captured_at)} (fetch {v.fetch_id}{mark})",
                f"- Extractor: {md(v.extractor)}", f"- Text sha256: `{v.text_sha256}` ({v.words} words)"]
        out += _version_claims(changes[number].change, proofs["version", v.id])
        out += _screenshot_md(data["_shots"].get(number), offsets, proofs) + [""]
    between = [changes[n] for n in sorted(changes) if data["from"] < n <= data["to"]]
    out += ["## The change", "",
            f"{len(between)} version(s) after version {data['from']} up to version {data['to']}: "
            + "; ".join(f"v{c.version} {', '.join(map(md, c.change.kinds if c.change else []))}"
                        for c in between), ""]
    by_version = {p.record["version"]: p for (kind, _id), p in proofs.items() if kind == "version"}
    out += [f"- v{c.version}: {_proved(by_version[c.version], 'its change kinds')}" for c in between]
    out += ["", "The word-level diff is in `citation/diff.txt` (`[-removed-]{+added+}`), `citation/diff.html` "
            "and `citation/diff.json`; noise paragraphs (counters, teasers, site templates) are left out.", ""]
    out += _events_md(events, proofs, imported)
    out += _how_to_verify(segment, records, tokens)
    return "\n".join(out)


def _screenshot_md(shot: m.Screenshot | None, offsets: dict[str, int],
                   proofs: dict[tuple[str, int], Proof]) -> list[str]:
    """A version's screenshot: where it is in the WARC, its hash and how it was made."""
    if shot is None:
        return ["- Screenshot: none taken"]
    how = ("its own styles and images loaded live from the site at that time"
           if shot.subresources == "live-same-host" else "no styles or images, which were never archived")
    return [f"- Screenshot: {shot.format.upper()} {shot.width}×{shot.height} pixels"
            + (f" (the page is {shot.page_height} tall: cut)" if shot.page_height > shot.height else "")
            + f", taken at {chain.stamp(shot.taken_at)} by rendering the archived body in Chromium "
            f"({md(shot.made_how)}; {how}); sha256 `{shot.sha256}`; the WARC's `urn:fullPage:` resource record; check: "
            f"`warcio extract --payload archive/redline.warc.gz {offsets.get(shot.sha256, '')} | sha256sum`",
            f"- {_proved(proofs['screenshot', shot.id], 'the screenshot, its hash and how it was made')}"]


def _proved(proof: Proof, what: str) -> str:
    """The line naming the record that proves a claim, with a command that checks its hash."""
    return (f"Proof of {what}: chain row {proof.seq} hashed line {proof.line} of `citation/records.jsonl` "
            f"(content sha256 `{proof.content_sha256}`); check: `sed -n {proof.line}p citation/records.jsonl | "
            f"tr -d '\\n' | sha256sum; grep '^{proof.seq} ' citation/chain.txt`")


def _version_claims(change: queries.ChangeSummary | None, proof: Proof) -> list[str]:
    """A version's declared times, change kinds, declared, stealth or undeclared, each with the record proving it."""
    record, out = proof.record, []
    if "updated" in record:
        out.append(f"- Declared times: published {md(record['published'] or '(none)')}, updated "
                   f"{md(record['updated'] or '(none)')}" + (f" (from {md(record['updated_signal'])})"
                                                          if record["updated_signal"] else ""))
    if change:
        how = ("declared" if change.declared else "stealth" if change.stealth else
               "undeclared (the page states no update time)" if change.undeclared else "neither declared nor stealth")
        out.append(f"- Change kinds: {', '.join(map(md, change.kinds)) or '(none)'}; {how}"
                   + ("; extractor drift, not a publisher's edit" if change.extractor_drift else ""))
    if "change_kinds" not in record:
        out.append(f"- Not proved by the chain: its row {proof.seq} was hashed in record format "
                   f"{record.get('format', 1)}, before the chain covered declared times and change kinds")
        return out
    marks = "from_other_url" in record
    out.append("- " + _proved(proof, "them (the record's `published`, `updated`, `updated_signal`, `change_kinds`, "
                       "`declared` and `drift`" + (", `from_other_url` and `against_other_url`" if marks else "")
                       + "; stealth is `declared` false, `drift` false" + (", neither mark set" if marks else "")
                       + ", a kind other than declared-update-only and an `updated` time the page stated (not from "
                       "`htmldate`); undeclared the same with no such `updated`)"))
    return out


def _events_md(events: list[m.Event], proofs: dict[tuple[str, int], Proof], imported: dict[int, str]) -> list[str]:
    """The article's events (gone, restored, failed, ...), each with the record proving it."""
    out = ["## Events (times in UTC)", ""]
    if not events:
        return out + ["No event (gone, restored, failed, blocked, ...) was recorded for this article.", ""]
    for e in events:
        detail = f": {md(e.detail)}" if e.detail else ""
        mark = f", imported from {md(imported[e.fetch_id])}" if e.fetch_id in imported else ""
        out += [f"- {md(e.kind)} at {chain.stamp(e.at)} (fetch {e.fetch_id}{mark}){detail}",
                f"  - {_proved(proofs['event', e.id], 'it')}"]
    return out + [""]


def _how_to_verify(segment: list[tuple[int, str, str, str]], records: list[tuple[int, str]],
                   tokens: list[Any]) -> list[str]:
    first_seq, _d, _c, first_prev = segment[0]
    head_seq, head_digest = segment[-1][0], segment[-1][1]
    out = ["## How to verify every hash", "",
           "Unzip this file (`unzip FILE.wacz -d cite`), then, inside `cite`:", "",
           "1. **Every file in the bundle**: `datapackage.json` lists each file's sha256; "
           "`sha256sum archive/redline.warc.gz citation/*` prints the same values, and the sha256 of "
           "`datapackage.json` is in `datapackage-digest.json`. `wacz validate -f FILE.wacz` checks all of them.",
           "2. **The raw bodies**: the command under each capture above extracts its body from "
           "`archive/redline.warc.gz` with warcio (`pip install warcio`; `warcio index` lists the records) "
           "and prints its sha256. Bodies are stored decoded (no gzip transfer encoding), exactly as hashed.",
           "3. **The texts**: `sha256sum citation/v*.txt` gives each version's text sha256 above.",
           "4. **The records**: each line of `citation/records.jsonl` is the exact JSON the chain hashed for a "
           "cited fetch, version or event (it names the URL, time, HTTP status, raw body sha256, outcome; or the "
           "version's text sha256, declared times, change kinds and declared flag; or the event). "
           "`sed -n 1p citation/records.jsonl | tr -d '\\n' | sha256sum` is that "
           "row's content sha256 in `citation/chain.txt`:", ""]
    out += [f"   - row {seq}: `{chain.sha256_hex(line)}`" for seq, line in records]
    out += ["", "5. **The chain**: each row's digest is `sha256(\"SEQ:PREVIOUS_DIGEST:CONTENT_SHA256\")`. "
            f"Row {first_seq} follows digest `{first_prev}`; recompute every row up to the head with:", "",
            "   ```sh",
            f"   prev={first_prev}",
            "   while read seq content digest; do",
            "     d=$(printf '%s:%s:%s' \"$seq\" \"$prev\" \"$content\" | sha256sum | cut -d' ' -f1)",
            "     [ \"$d\" = \"$digest\" ] || echo \"broken at row $seq\"; prev=$d",
            "   done < citation/chain.txt; echo \"head: $prev\"",
            "   ```", "",
            f"   The result must be `{head_digest}`, the head `{chain.head_string(head_seq, head_digest)}`; "
            "compare it with a head published or e-mailed earlier (`redline verify --head`).", ""]
    if tokens:
        out += ["6. **Trusted timestamps** (RFC 3161): each `citation/timestamp-SEQ.tsr` is a token over the head "
                "text in `citation/timestamp-SEQ.txt`, and that head's digest appears in `citation/chain.txt` at "
                "row SEQ. Check one with "
                "`openssl ts -verify -data citation/timestamp-SEQ.txt -in citation/timestamp-SEQ.tsr -CAfile TSA-CA.pem`:",
                ""]
        out += [f"   - row {tok.seq}: {md(tok.tsa_url)}, time {iso(tok.gen_time)}" for tok in tokens]
    else:
        out.append("6. **Trusted timestamps**: none were taken (set `REDLINE_TSA_URL` to have each crawl's head "
                   "timestamped).")
    out.append("")
    return out

