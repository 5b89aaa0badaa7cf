"""The text export formats, txt, Markdown with YAML front matter and JSON Lines: their paths and bytes.

Layout under OUT_DIR (every path is derived from the article's URL key, never from a title)::

    <host>/<slug>-<hash>/v0002-20261122T063251Z.txt     --format txt (body text + "Original url:" footer
                                                        with Title:, Byline:, Published:, Updated:, Captured at:)
    <host>/<slug>-<hash>/v0002-20261122T063251Z.md      --format md  (YAML front matter + body text)
    redline.jsonl                                       --format jsonl (one object per version, one file)
    redline.warc.gz, redline.cdxj                       --format warc (see archive.exports.warc)

``<host>`` is the URL key's host and port (``127.0.0.1_8080``); ``<slug>`` is an ASCII slug of the last
path segment; ``<hash>`` is 16 hex digits of the sha256 of the full URL key, so URLs differing only by
case, Unicode normalization form or query never share a directory. Every component is checked to be a
plain name (no ``/``, ``..``, NUL or Windows device name such as ``CON`` or ``COM1``) of at most 255
bytes, so nothing is written outside OUT_DIR.

JSON Lines: one object per version, sorted by URL key then version number, with these keys in this
order: ``schema_version`` (1), ``url``, ``canonical_url``, ``version``, ``captured_at``, ``title``,
``byline``, ``description``, ``language``, ``published``, ``updated``, ``site_name``, ``extractor``,
``sha256``, ``words``, ``change_kinds``, ``drift``, ``text``, ``fetched_url`` (the URL the version was
fetched from; ``url`` is its article's) and ``from_other_url`` (true on a version an older Redline merged
in from a copy at another URL).
Added later, with the same schema_version, so an import keeps a version's change instead of recomputing
it: ``added_words``, ``removed_words``, ``declared``, ``reverts_to``, ``recovered_at``, ``imported`` (the
format the version's capture was imported from, or null). md front matter carries the same change fields.

Beside txt, md and jsonl exports, ``redline.history.jsonl`` (see :mod:`archive.exports.history`) holds the
selected articles' events and their sites' noise rules and learned templates.

Default selection is each article's latest version; ``all_versions`` gives every version; ``since``
keeps versions captured at or after a time. Writes are atomic (temporary file in the destination
directory, fsync, ``os.replace``) and deterministic, so a re-run over the same archive gives the same
bytes; an existing file with identical bytes is left untouched. Files of versions no longer selected
are never deleted.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from archive.exports.files import safe_component
from archive.exports.selection import Selected
from archive.queries import iso

SCHEMA_VERSION = 1
JSONL_NAME = "redline.jsonl"
FOOTER = "Original url:"
HASH_LEN = 16
SLUG_MAX = 60
HOST_MAX = 100
FRONT_MATTER_KEYS = ("url", "canonical_url", "title", "description", "byline", "language", "published",
                     "updated", "captured_at", "version", "sha256", "extractor", "fetched_url", "from_other_url",
                     # what the version's change was, so an import keeps it rather than recomputing it
                     "words", "change_kinds", "added_words", "removed_words", "declared", "reverts_to", "drift",
                     "recovered_at", "imported")


# -- paths ------------------------------------------------------------------------------------------

def url_hash(key: str) -> str:
    """The short hash of a full URL key that keeps article directories apart.

    >>> url_hash("http://example.com/a") != url_hash("http://example.com/A")
    True
    """
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:HASH_LEN]


def host_dir(key: str) -> str:
    """Directory name for the host (and port) of a URL key.

    >>> host_dir("http://127.0.0.1:8080/story"), host_dir("http://[::1]:81/"), host_dir("http://con/")
    ('127.0.0.1_8080', '1_81', '_con')
    """
    netloc = urlsplit(key).netloc.lower()
    name = re.sub(r"[^a-z0-9.-]+", "_", netloc).strip("_.")[:HOST_MAX].strip("_.")
    return safe_component(name or "_")


def slug(key: str) -> str:
    """An ASCII slug of the URL path's last segment (never of a title).

    >>> slug("http://x/2024/12/05/Russia-Pact.html"), slug("http://x/"), slug("http://x/caf%C3%A9")
    ('russia-pact-html', 'index', 'cafe')
    """
    path = urlsplit(key).path
    last = next((s for s in reversed(path.split("/")) if s), "")
    text = unicodedata.normalize("NFKD", unquote(last)).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return text[:SLUG_MAX].strip("-") or ("index" if path in ("", "/") else "article")


def article_dir(key: str) -> PurePosixPath:
    """``host/slug-hash`` for an article's URL key."""
    return PurePosixPath(host_dir(key), safe_component(f"{slug(key)}-{url_hash(key)}"))


def version_path(key: str, number: int, captured_at: datetime, ext: str) -> PurePosixPath:
    """Relative path of one exported version.

    >>> from datetime import UTC
    >>> str(version_path("http://127.0.0.1:8080/pact", 2, datetime(2026, 11, 22, 6, 32, 51, tzinfo=UTC), "txt"))
    '127.0.0.1_8080/pact-a0c3334e43e8a2d6/v0002-20261122T063251Z.txt'
    """
    return article_dir(key) / f"v{number:04d}-{captured_at:%Y%m%dT%H%M%SZ}.{ext}"


# -- rendering --------------------------------------------------------------------------------------

TXT_FIELDS = {"title": "Title", "byline": "Byline", "published": "Published", "updated": "Updated",
              "captured_at": "Captured at"}


def render_txt(sel: Selected) -> bytes:
    """Body text, then a blank line, ``Original url:`` and the URL, then the version's title, byline and
    times as ``Title: ...`` lines (those it has), which ``redline import`` reads back."""
    meta = front_matter(sel)
    fields = "".join(f"{label}: {' '.join(str(meta[key]).split())}\n" for key, label in TXT_FIELDS.items()
                     if meta[key])
    return f"{sel.text}\n\n{FOOTER}\n{sel.article.key}\n\n{fields}".encode("utf-8")


def front_matter(sel: Selected) -> dict[str, Any]:
    """The md front matter fields of one version."""
    v = sel.version
    return {"url": sel.article.key, "canonical_url": v.canonical_url, "title": v.title,
            "description": v.description, "byline": v.byline, "language": v.language,
            "published": v.published, "updated": v.updated, "captured_at": iso(v.captured_at),
            "version": v.number, "sha256": v.text_sha256, "extractor": v.extractor, "fetched_url": sel.fetched_url,
            "from_other_url": bool(v.from_other_url),
            **change_facts(sel)}


def change_facts(sel: Selected) -> dict[str, Any]:
    """What a version's change was (as ``log --json`` shows it), and where its capture came from: the
    fields md and jsonl carry beyond the text, which ``redline import`` keeps instead of recomputing."""
    v = sel.version
    return {"words": v.words, "change_kinds": v.change_kinds, "added_words": v.added_words,
            "removed_words": v.removed_words, "declared": v.declared, "reverts_to": v.reverts_to,
            "drift": bool(v.drift), "recovered_at": iso(v.recovered_at),
            "imported": sel.imported}


class _Dumper(yaml.SafeDumper):
    """Safe YAML with every string value double-quoted, so any character round-trips."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = None if value in FRONT_MATTER_KEYS else '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def dump_front_matter(meta: dict[str, Any]) -> str:
    """YAML for a front matter block (without the ``---`` lines).

    >>> dump_front_matter({"title": "a: b\\n---\\n#x", "version": 2})
    'title: "a: b\\\\n---\\\\n#x"\\nversion: 2\\n'
    """
    return yaml.dump(meta, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=2**31 - 1)


def render_md(sel: Selected) -> bytes:
    """YAML front matter, a blank line, then the text."""
    return f"---\n{dump_front_matter(front_matter(sel))}---\n\n{sel.text}\n".encode("utf-8")


def jsonl_record(sel: Selected) -> dict[str, Any]:
    """One JSON Lines object (schema_version 1) for a version."""
    v = sel.version
    return {"schema_version": SCHEMA_VERSION, "url": sel.article.key, "canonical_url": v.canonical_url,
            "version": v.number, "captured_at": iso(v.captured_at), "title": v.title, "byline": v.byline,
            "description": v.description, "language": v.language, "published": v.published,
            "updated": v.updated, "site_name": v.site_name, "extractor": v.extractor, "sha256": v.text_sha256,
            "words": v.words, "change_kinds": v.change_kinds, "drift": bool(v.drift), "text": sel.text,
            "fetched_url": sel.fetched_url, "from_other_url": bool(v.from_other_url),
            **{k: val for k, val in change_facts(sel).items() if k not in ("words", "change_kinds", "drift")}}
