"""How the terminal shows query results: diff markers and colours, the history table, metadata.

Everything printed here comes from the web, so every piece of text is cleaned of control
characters before markers or colours are added around it.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from redline.output import clean, color_enabled, table

if TYPE_CHECKING:
    from datetime import datetime

    from archive.queries import (
        ArticleSummary,
        ChangeSummary,
        Diff,
        EventEntry,
        FetchEntry,
        Related,
        RunEntry,
        SearchHit,
        VersionDetail,
        VersionEntry,
    )
    from archive.queries.rules import LearnedTemplate
    from archive.text.diff import Op, Paragraph

CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
DELETED, INSERTED = ("[-", "-]"), ("{+", "+}")
# On a terminal the markers stay, coloured, so that a diff copied into notes still shows what changed.
DELETED_COLOR, INSERTED_COLOR = ("\x1b[9;31m[-", "-]\x1b[0m"), ("\x1b[4;32m{+", "+}\x1b[0m")


def clean_text(text: str) -> str:
    """Untrusted text for the terminal: control characters (tabs too) removed, newlines kept.

    >>> clean_text("a\\tb\\x1b[31m\\nc")
    'ab[31m\\nc'
    """
    return CONTROL_BUT_NEWLINE.sub("", text)


class Styler:
    """Marks deletions and insertions: ``[-old-]{+new+}``, in ANSI strike-through red and underlined green
    on a terminal."""

    def __init__(self, color: bool) -> None:
        self.color = color
        self.deleted, self.inserted = (DELETED_COLOR, INSERTED_COLOR) if color else (DELETED, INSERTED)

    def __call__(self, op: Op) -> str:
        """One change, its old side then its new side, each marked.

        >>> from archive.text.diff import Op
        >>> Styler(False)(Op("replace", "b", "x"))
        '[-b-]{+x+}'
        """
        out = ""
        if op.old and op.op in ("delete", "replace"):
            out += _wrap(op.old, *self.deleted)
        if op.new and op.op in ("insert", "replace"):
            out += _wrap(op.new, *self.inserted)
        return out


def _wrap(text: str, left: str, right: str) -> str:
    """Mark each paragraph of ``text`` separately, so markers never span paragraphs."""
    return "\n\n".join(f"{left}{piece}{right}" if piece else piece for piece in text.split("\n\n"))


def changed_paragraphs(paragraphs: list[Paragraph], style: Styler) -> str:
    """The changed paragraphs only, changed words marked, text cleaned before marking.

    >>> from archive.text.diff import paragraph_spans, word_ops
    >>> print(changed_paragraphs(paragraph_spans(word_ops("A b.\\n\\nSame.", "A c.\\n\\nSame.")), Styler(False)))
    A [-b.-]{+c.+}
    """
    from archive.text.diff import Op

    def piece(span: Op) -> str:
        if span.op == "equal":
            return clean_text(span.old)
        return style(Op(span.op, clean_text(span.old), clean_text(span.new)))

    def line(spans: tuple[Op, ...]) -> str:
        out = ""
        for before, span in zip((None, *spans), spans):
            # Words are whole tokens, so a change always stands apart from the word before it, even when
            # that word ended one side's text ("Force" -> "Force (updated)").
            gap = before is not None and before.op == "equal" and span.op != "equal" and not before.old[-1:].isspace()
            out += (" " if gap else "") + piece(span)
        return out

    return "\n\n".join(line(p.spans) for p in paragraphs if p.changed)


def print_diff(result: Diff, fmt: str) -> None:
    """``redline diff`` as text: a header block (versions, headline, byline, declared update time), then
    the changed paragraphs word by word (coloured on a terminal) or a unified diff of the text."""
    from archive.queries import iso

    style = Styler(color_enabled() and fmt != "unified")
    click.echo(f"{clean(result.url)}: v{result.old.version} ({iso(result.old.captured_at)}) -> "
               f"v{result.new.version} ({iso(result.new.captured_at)})")
    for name in ("title", "byline", "updated"):
        field = getattr(result, name)
        if field.old is not None or field.new is not None:
            click.echo(f"{name}: {_field(field.old, field.new, style)}")
    if result.identical:
        click.echo(_identical(result))
        return
    if fmt == "unified":
        from archive.text.diff import unified

        label = result.url.split("://", 1)[-1]
        click.echo(unified(result.old_text, result.new_text, f"a/{label}@v{result.old.version}",
                           f"b/{label}@v{result.new.version}"), nl=False)
        return
    click.echo()
    click.echo(changed_paragraphs(result.paragraphs, style))


def _field(old: str | None, new: str | None, style: Styler) -> str:
    """A metadata field: as the newer version has it when unchanged (in the compared form: a dash or quote
    restyled is no change), else word by word.

    >>> _field("Storm leaves thousands without power", "Storm leaves 21,000 homes without power", Styler(False))
    'Storm leaves [-thousands-]{+21,000 homes+} without power'
    >>> _field(None, "2024-12-05T18:30:00Z", Styler(False))
    '{+2024-12-05T18:30:00Z+}'
    >>> _field("Pact - in force", "Pact \u2014 in force", Styler(False))
    'Pact \u2014 in force'
    """
    from archive.text.diff import paragraph_spans, word_ops
    from archive.text.normalize import comparable

    old, new = clean(old), clean(new)
    if comparable(old) == comparable(new):
        return clean_text(new)
    return changed_paragraphs(paragraph_spans(word_ops(old, new)), style)


def _identical(result: Diff) -> str:
    a, b = result.old.version, result.new.version
    said = f"v{a} and v{b} are identical: same text, headline, byline and declared update time"
    if result.reverts_to == a:
        said += f" (v{b} reverts to v{a})"
    return said if result.with_noise else said + " (noise paragraphs not compared; --with-noise compares them)"


def print_log(versions: list[VersionEntry], events: list[EventEntry], fetches: Sequence[FetchEntry] = (),
              url: str | None = None, related: Related | None = None,
              learned: Sequence[LearnedTemplate] = ()) -> None:
    """An article's history as one table, oldest first; with ``fetches``, every fetch and what noise
    rules skipped in it, then the learned site template paragraphs among what they skipped. A version
    fetched from another URL than ``url`` (a redirect's target) says where from; ``related`` adds the
    copies at other URLs the article is related to, above the table."""
    from archive.queries import iso

    if related is not None:
        print_related(related)
    timed = [(v.captured_at, [iso(v.captured_at), f"v{v.version}",
                              describe(v.change, v.recovered_at, v.fetched_url if v.from_other_url else None),
                              v.words, _title_and_source(v, url)]) for v in versions]
    timed += [(e.at, [iso(e.at), "event", e.event, "", e.detail or ""]) for e in events]
    timed += [(f.at, [iso(f.at), "fetch", _fetch_what(f), "", _fetch_detail(f)]) for f in fetches]
    timed.sort(key=lambda t: t[0])  # stable: versions, then events, then fetches at equal times
    table(["time", "what", "change", "words (all)", "title / detail"], [row for _, row in timed])
    for t in learned:
        evidence = f" from {t.articles} of {t.of_articles} articles" if t.articles else ""
        click.echo(f"[template] learned {iso(t.first_seen)} for {clean(t.host)}{evidence}: {clean(t.text or '')!r}\n"
                   f"  skipped on every article of the site; if it is an edit, undo with '{clean(t.forget)}'")


def print_learning(learned: Sequence[dict[str, Any]], site_wide: Sequence[dict[str, Any]]) -> None:
    """Say what a crawl grouped as site-wide edits and learned as site template noise (never silently)."""
    from archive.queries.sitewide import label

    for found in site_wide:
        click.echo(f"site-wide edit: a paragraph {clean(label(found['action'], found['articles'], found['host']))} "
                   f"(one version each, kind site-wide): {clean(found['text'])!r}")
    for t in learned:
        click.echo(f"learned a template paragraph of {clean(t['host'])} ({t['why']}: {t['articles']} of "
                   f"{t['of_articles']} articles); it is now skipped on every article of the site: {clean(t['text'])!r}"
                   f"\n  if it is an edit, undo with '{clean(t['forget'])}' (see 'redline log URL --all')")


def print_related(related: Related) -> None:
    """The copies at other URLs an article is related to by canonical links (never merged with it)."""
    if related.copy_of:
        click.echo(f"copy of: {clean(related.copy_of)}")
    for url in related.also_published_at:
        click.echo(f"also published at: {clean(url)}")


def _title_and_source(v: VersionEntry, url: str | None) -> str:
    """A version's title, and the URL it was fetched from when that is not the article's."""
    from archive.text.normalize import BadURL, url_key

    title = v.title or ""
    if url is None or v.fetched_url is None:
        return title
    try:
        same = url_key(v.fetched_url) == url_key(url)
    except BadURL:
        same = False
    return title if same else f"{title}\nfetched from {v.fetched_url}"


def _fetch_what(f: FetchEntry) -> str:
    """A fetch's outcome, its HTTP status, and "browser" when the page was also loaded in a browser."""
    said = [f"HTTP {f.status}"] if f.status else []
    if f.fetched_with != "http":
        said.append(f.fetched_with)
    return f"{f.outcome} ({', '.join(said)})" if said else f.outcome


def _fetch_detail(f: FetchEntry) -> str:
    """Why a fetch failed, then each changed paragraph a noise rule skipped in it, one per line."""
    skipped = [f"{'+' if n['change'] == 'added' else '-'} [{n['rule']}] {n['text']}" for n in f.noise]
    return "\n".join([f.reason, *skipped] if f.reason else skipped)


def describe(change: ChangeSummary | None, recovered_at: datetime | None = None,
             other_url: str | None = None) -> str:
    """One version's change in words: kinds, word counts, declared or stealth, flip-flops, drift, recovery,
    and ``other_url``, the URL of a version an older Redline merged in from another page."""
    if other_url:
        merged = f"from another URL, {other_url}: a copy merged by an older Redline, no edit of this article"
        return merged if change is None else f"{describe(change, recovered_at)}; {merged}"
    if change is None:
        return "first capture"
    parts = [", ".join(change.kinds), change.words_said(" (noise excluded)")]
    parts.append("declared" if change.declared else "stealth" if change.stealth else
                 "undeclared" if change.undeclared else "")
    if change.site_wide:
        parts.append(f"site-wide: {clean(change.site_wide.label)}")
    if change.reverts_to:
        parts.append(f"flip-flop: back to v{change.reverts_to}")
    if change.extractor_drift:
        parts.append("extractor drift")
    if change.against_other_url:
        parts.append("measured against a copy from another URL before it, not this article's own last version")
    if recovered_at:
        parts.append(f"recovered by renoise at {recovered_at:%Y-%m-%dT%H:%M:%SZ}")
    return "; ".join(p for p in parts if p)


def print_version(detail: VersionDetail) -> None:
    """``redline show`` as text: metadata lines (with the URL the version was fetched from and the copies
    the article is related to), a blank line, the text."""
    from archive.queries import Related, iso

    for key in ("title", "byline", "published", "updated", "captured_at", "version", "url", "fetched_url"):
        value = getattr(detail, key)
        click.echo(f"{key}: {clean(iso(value) if key == 'captured_at' else value)}")
    if detail.from_other_url:
        click.echo("note: fetched from another URL than this article's; a copy merged by an older Redline "
                   "through a canonical link, no version of this article's own page")
    print_related(Related(detail.copy_of, detail.also_published_at))
    click.echo()
    click.echo(clean_text(detail.text))


def print_articles(rows: list[ArticleSummary]) -> None:
    """``redline list`` as a table."""
    from archive.queries import iso

    table(["id", "status", "versions", "last changed", "url", "title"],
          [[a.short_id, a.status, a.versions, iso(a.last_changed) or "-", a.url, a.title or ""] for a in rows])


def print_hits(hits: list[SearchHit]) -> None:
    """``redline search`` as a table; the match in each passage between « and »."""
    from archive.queries import iso

    if not hits:
        click.echo("no version matches", err=True)
        return
    table(["id", "version", "captured", "url", "passage"],
          [[h.id, f"v{h.version}" + ("" if h.latest else " (changed since)"), iso(h.captured_at), h.url,
            f"{h.before}«{h.match}»{h.after}".replace("\n", " ")] for h in hits])


def print_runs(rows: list[RunEntry]) -> None:
    """``redline runs`` as a table, newest first."""
    from archive.queries import iso

    table(["run", "job", "started", "ended", "outcome", "discovered", "fetched", "new articles", "new versions",
           "failures"],
          [[r.id, r.job, iso(r.started), iso(r.ended) or "-", r.outcome, r.discovered, r.fetched,
            r.new_articles, r.new_versions, r.failures] for r in rows])
