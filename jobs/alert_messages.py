"""What an alert says: a plain-text body, a Markdown body and the webhook payload.

Titles and texts come from the web, so they are hostile: plain text loses control characters,
Markdown escapes every ASCII punctuation mark (so no link, image or HTML can be injected, and
apprise's Markdown-to-HTML conversion shows them literally), and excerpts go in a code fence
longer than any run of backticks they contain.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from string import Formatter, punctuation
from typing import Any
from urllib.parse import quote, urlsplit

from archive.queries import EventChange, VersionChange, iso, json_shapes
from archive.text.diff import Op, paragraph_spans, word_ops
from archive.vocab import ChangeKind, EventKind

DEFAULT_DIFF_PATH = "/a/{id}/diff/{from}/{to}"  # the permalink of that diff in redline serve
PLACEHOLDERS = {"id", "url", "host", "from", "to"}
CONTEXT_WORDS = 6          # unchanged words shown on each side of a change
EXCERPT_PARAGRAPHS = 3     # changed paragraphs shown at most
EXCERPT_CHARS = 600
SCHEMA_VERSION = 2  # 2: items carry "event" and "page_url"; takedowns and restorations are items (README)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
MD_SPECIAL = re.compile("([" + re.escape(punctuation) + "])")


@dataclass(frozen=True)
class Message:
    """One message: titles and bodies in both forms, and the webhook payload."""

    title: str
    markdown_title: str
    text: str
    markdown: str
    payload: dict[str, Any]


def check_base_url(url: str) -> str:
    """A base URL for diff links, checked: http(s) with a host, since every alert's link starts with it.

    >>> check_base_url("https://redline.example.org/")
    'https://redline.example.org/'
    >>> check_base_url("redline.example.org")
    Traceback (most recent call last):
    ...
    ValueError: bad base URL 'redline.example.org'; give an http(s) URL such as https://redline.example.org
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise ValueError(f"bad base URL {url!r}; give an http(s) URL such as https://redline.example.org")
    return url


def check_diff_path(template: str) -> str:
    """A diff path template, checked: only {id}, {url}, {host}, {from} and {to}.

    >>> check_diff_path("/a/{host}/{to}")
    '/a/{host}/{to}'
    >>> check_diff_path("/d/{article}")
    Traceback (most recent call last):
    ...
    ValueError: unknown placeholder {article} in diff path; use {id}, {url}, {host}, {from} or {to}
    """
    try:
        names = {name for _, name, _, _ in Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ValueError(f"bad diff path {template!r}: {exc}") from exc
    unknown = sorted(names - PLACEHOLDERS)
    if unknown:
        raise ValueError(f"unknown placeholder {{{unknown[0]}}} in diff path; "
                         "use {id}, {url}, {host}, {from} or {to}")
    return template


def diff_link(base_url: str | None, template: str, change: VersionChange) -> str | None:
    """The diff page's URL, or None without a base URL.

    >>> from archive.queries import VersionStamp
    >>> class D: url, old, new = "https://ex.com/a?b=1", VersionStamp(1, None), VersionStamp(2, None)
    >>> class C: diff, short_id = D, "3f9a1c07b2"
    >>> diff_link("https://redline.example/", DEFAULT_DIFF_PATH, C)
    'https://redline.example/a/3f9a1c07b2/diff/1/2'
    >>> diff_link("https://redline.example/", "/diff?url={url}&from={from}&to={to}", C)
    'https://redline.example/diff?url=https%3A%2F%2Fex.com%2Fa%3Fb%3D1&from=1&to=2'
    """
    if not base_url:
        return None
    d = change.diff
    host = d.url.split("://", 1)[-1].split("/", 1)[0]
    path = template.format_map({"id": change.short_id, "url": quote(d.url, safe=""), "host": quote(host, safe=""),
                                "from": d.old.version, "to": d.new.version})
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def page_link(base_url: str | None, item: VersionChange | EventChange) -> str | None:
    """The article's page in the web view (``/a/ID``): a takedown has no diff to link to.

    >>> class C: short_id = "3f9a1c07b2"
    >>> page_link("https://redline.example/", C), page_link(None, C)
    ('https://redline.example/a/3f9a1c07b2', None)
    """
    return f"{base_url.rstrip('/')}/a/{item.short_id}" if base_url else None


def _link(base_url: str | None, template: str, item: VersionChange | EventChange) -> str | None:
    """Where an item's message points: its diff, or the article's page for a takedown."""
    if isinstance(item, EventChange):
        return page_link(base_url, item)
    return diff_link(base_url, template, item)


def _url(item: VersionChange | EventChange) -> str:
    return item.url if isinstance(item, EventChange) else item.diff.url


def excerpt(change: VersionChange) -> str:
    """The change in words, ``[-old-]{+new+}``, with a little context; headline first.

    >>> from archive.queries import FieldChange
    >>> class D:
    ...     title = FieldChange("Old head", "New head")
    ...     paragraphs = paragraph_spans(word_ops("One two three.\\n\\nSame.", "One 2 three.\\n\\nSame."))
    >>> class C: diff = D
    >>> print(excerpt(C))
    Headline: [-Old-]{+New+} head
    One [-two-]{+2+} three.
    """
    d = change.diff
    lines = []
    if d.title.changed:
        spans = [s for p in paragraph_spans(word_ops(d.title.old or "", d.title.new or "")) for s in p.spans]
        lines.append("Headline: " + _paragraph(tuple(spans), context=len(spans) * 99))
    changed = [p for p in d.paragraphs if p.changed]
    lines += [_paragraph(p.spans) for p in changed[:EXCERPT_PARAGRAPHS]]
    if len(changed) > EXCERPT_PARAGRAPHS:
        lines.append(f"... and {len(changed) - EXCERPT_PARAGRAPHS} more changed paragraph(s)")
    text = clean("\n".join(lines))
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS - 3].rstrip() + "..."


def _paragraph(spans: tuple[Op, ...], context: int = CONTEXT_WORDS) -> str:
    """One paragraph's spans with changes marked and at most ``context`` unchanged words around each."""
    out = []
    for i, span in enumerate(spans):
        if span.op != "equal":
            out.append((f"[-{span.old.strip()}-]" if span.old else "") + (f"{{+{span.new.strip()}+}}" if span.new else ""))
            continue
        words = span.old.split()
        first, last = i == 0, i == len(spans) - 1
        if first and len(words) > context:
            words = ["...", *words[-context:]]
        elif last and len(words) > context:
            words = [*words[:context], "..."]
        elif len(words) > 2 * context:
            words = [*words[:context], "...", *words[-context:]]
        out.append(" ".join(words))
    return " ".join(piece for piece in out if piece)


def clean(text: str) -> str:
    """Plain text without control characters (newlines and tabs kept)."""
    return CONTROL.sub("", text)


def md(text: str) -> str:
    r"""Untrusted text as literal Markdown: every ASCII punctuation mark escaped, one line.

    >>> md("<img src=x> [a](javascript:x) *b*")
    '\\<img src\\=x\\> \\[a\\]\\(javascript\\:x\\) \\*b\\*'
    """
    return MD_SPECIAL.sub(r"\\\1", " ".join(clean(text).split()))


def _fence(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"


def _significance(change: VersionChange | EventChange) -> tuple[int, int]:
    """Sort key: takedowns and restorations first, then headline and corrections, then most words changed."""
    if isinstance(change, EventChange):
        return (0, 0)
    entry = change.entry.change
    assert entry is not None
    big = bool({ChangeKind.HEADLINE, ChangeKind.CORRECTION} & set(entry.kinds))
    return (1 if big else 2, -((entry.added_words or 0) + (entry.removed_words or 0)))


def _facts(change: VersionChange | EventChange) -> str:
    if isinstance(change, EventChange):
        e = change.event
        said = "taken down" if e.event == EventKind.GONE else "answers again"
        return (f"{e.event}: {said}" + (f" ({e.detail})" if e.detail else "")
                + f" at {iso(e.at)}; its latest version then was v{change.entry.version}")
    c = change.entry.change
    assert c is not None
    how = "declared" if c.declared else "stealth" if c.stealth else "undeclared"
    recovered = f"; recovered by renoise (captured {iso(change.entry.captured_at)})" if change.entry.recovered_at else ""
    group = f"; site-wide edit: a paragraph {c.site_wide.label}" if c.site_wide else ""
    return (f"{', '.join(c.kinds)} ({how}); {c.words_said()}; "
            f"v{change.diff.old.version} -> v{change.diff.new.version} at {iso(change.entry.captured_at)}{recovered}"
            f"{group}")


def _kinds(change: VersionChange | EventChange) -> list[str]:
    if isinstance(change, EventChange):
        return [change.event.event]
    assert change.entry.change is not None
    return list(change.entry.change.kinds)


def alert_json(change: VersionChange | EventChange, link: str | None, page: str | None) -> dict[str, Any]:
    """One alert in the webhook payload (README, "Alerts"); a takedown's has the same keys, its diff
    ones null."""
    if isinstance(change, EventChange):
        e = change.event
        return {"event": e.event, "url": change.url, "title": change.entry.title, "version": change.entry.version,
                "previous_version": None, "captured_at": iso(e.at), "kinds": [], "declared": None, "stealth": None,
                "added_words": None, "removed_words": None, "recovered_at": None, "detail": e.detail,
                "diff_url": None, "page_url": page, "diff": None, "site_wide": None}
    c = change.entry.change
    assert c is not None
    return {"event": None, "url": change.diff.url, "title": change.entry.title, "version": change.diff.new.version,
            "previous_version": change.diff.old.version, "captured_at": iso(change.entry.captured_at),
            "kinds": list(c.kinds), "declared": c.declared, "stealth": c.stealth, "added_words": c.added_words,
            "removed_words": c.removed_words, "recovered_at": iso(change.entry.recovered_at), "detail": None,
            "diff_url": link, "page_url": page, "diff": json_shapes.diff(change.diff),
            "site_wide": asdict(c.site_wide) if c.site_wide else None}


def build(key: str, rule: str, digest: str | None, changes: list[VersionChange | EventChange], base_url: str | None,
          diff_path: str = DEFAULT_DIFF_PATH, *, test: bool = False) -> Message:
    """The message about ``changes`` (one, or a digest's), grouped by article, most significant first; in a
    digest, the versions of one site-wide edit are one entry ("added to 10 articles of example.com")."""
    by_article: dict[str, list[VersionChange | EventChange]] = {}
    by_site_wide: dict[int, list[VersionChange]] = {}
    for change in changes:
        group = (change.entry.change.site_wide
                 if isinstance(change, VersionChange) and change.entry.change and digest else None)
        if isinstance(change, VersionChange) and group is not None:
            by_site_wide.setdefault(group.group, []).append(change)
        else:
            by_article.setdefault(_url(change), []).append(change)
    groups = sorted(by_article.values(), key=lambda group: min(_significance(c) for c in group))
    links = {id(c): _link(base_url, diff_path, c) for c in changes}
    prefix = "[test] " if test else ""
    if digest:
        articles = len(groups) + sum(len({c.diff.url for c in members}) for members in by_site_wide.values())
        title = f"{prefix}Redline {digest} digest ({rule}): {len(changes)} change(s) in {articles} article(s)"
    else:
        c = changes[0]
        group = c.entry.change.site_wide if isinstance(c, VersionChange) and c.entry.change else None
        named = f"site-wide edit, a paragraph {group.label}: " if group else ""
        title = f"{prefix}Redline ({rule}): {', '.join(_kinds(c))}: {named}{c.entry.title or _url(c)}"
    text, markdown = [], []
    for members in by_site_wide.values():
        head = members[0].entry.change
        assert head is not None and head.site_wide is not None
        lines = [f"{c.entry.title or '(no title)'} {c.diff.url} v{c.diff.new.version}"
                 + (f" (diff: {links[id(c)]})" if links[id(c)] else "") for c in members]
        text.append(f"Site-wide edit: a paragraph {head.site_wide.label} ({len(members)} in this digest)\n"
                    f"{head.site_wide.text}\n" + "\n".join(lines))
        markdown.append(f"**{md('Site-wide edit: a paragraph ' + head.site_wide.label)}** "
                        f"({len(members)} in this digest)\n\n{_fence(head.site_wide.text)}\n\n"
                        + "\n".join(f"- {md(line)}" for line in lines))
    for group in groups:
        head = group[-1]
        text.append(f"{head.entry.title or '(no title)'}\n{_url(head)}")
        markdown.append(f"**{md(head.entry.title or '(no title)')}**  \n{md(_url(head))}")
        for change in group:
            text.append(_text_item(change, links[id(change)]))
            markdown.append(_markdown_item(change, links[id(change)]))
    payload = {"schema_version": SCHEMA_VERSION, "idempotency_key": key, "rule": rule, "digest": digest,
               "test": test, "alerts": [alert_json(c, links[id(c)], page_link(base_url, c))
                                        for group in [*by_site_wide.values(), *groups] for c in group]}
    return Message(clean(" ".join(title.split())), md(title), clean("\n\n".join(text)), "\n\n".join(markdown),
                   payload)


def _text_item(change: VersionChange | EventChange, link: str | None) -> str:
    """One item of the plain-text body: its facts, its excerpt (none for a takedown) and its link."""
    if isinstance(change, EventChange):
        return _facts(change) + (f"\nPage: {link}" if link else "")
    return f"{_facts(change)}\n{excerpt(change)}" + (f"\nDiff: {link}" if link else "")


def _markdown_item(change: VersionChange | EventChange, link: str | None) -> str:
    label = "Page" if isinstance(change, EventChange) else "Diff"
    body = md(_facts(change)) if isinstance(change, EventChange) else f"{md(_facts(change))}\n\n{_fence(excerpt(change))}"
    return body + (f"\n\n[{label}]({quote(link, safe=':/?&=%#')})" if link else "")
