"""URL identity and text normalization: small pure functions.

URL keys are computed here rather than with courlan because courlan takes
~180 ms to import, and every view command normalizes the URL it is given.
"""
from __future__ import annotations

import hashlib
import posixpath
import re
import unicodedata
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from archive.errors import InvalidInput

TRACKING_PARAMS = re.compile(
    r"^(utm_\w*|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|igshid|mc_cid|mc_eid|"
    r"_ga|_gl|ref_src|ref_url|cmpid|ncid|ocid|smid|mkt_tok|__twitter_impression|at_\w+)$",
    re.IGNORECASE,
)
DEFAULT_PORTS = {"http": 80, "https": 443}


# A host name as articles are keyed by it (url_host): no scheme, port, path or upper case.
HOST_RE = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")


class BadURL(ValueError):
    """A URL that cannot name a web page."""


def url_key(url: str) -> str:
    """Normalize an http(s) URL into the key Redline identifies pages by.

    Lower-cases scheme and host, drops default ports, fragments and tracking
    parameters, resolves dot segments and sorts the query.

    >>> url_key("HTTP://Example.COM:80/a/../b/?utm_source=x&b=2&a=1&fbclid=z#top")
    'http://example.com/b/?a=1&b=2'
    >>> url_key("https://example.com")
    'https://example.com/'
    >>> url_key("ftp://example.com/x")
    Traceback (most recent call last):
    ...
    archive.text.normalize.BadURL: not an http(s) URL: ftp://example.com/x
    """
    raw = url.strip()
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise BadURL(f"malformed URL: {raw}") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise BadURL(f"not an http(s) URL: {raw}")
    host = parts.hostname.lower().rstrip(".")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise BadURL(f"malformed host in URL: {raw}") from exc
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, _clean_path(parts.path), _clean_query(parts.query), ""))


def url_lines(text: str) -> list[str]:
    """The URLs of a URL file: one per line, surrounding whitespace ignored; blank lines, ``#`` comment
    lines and comments after a URL (`` # ...``, a ``#`` after whitespace) skipped.

    >>> url_lines("# watch\\nhttps://a.example/x   # budget story\\n\\n  https://b.example/y#top  \\n")
    ['https://a.example/x', 'https://b.example/y#top']

    A byte-order mark that Excel or Notepad put at the start is not part of the first URL:

    >>> url_lines("\\ufeffhttps://a.example/x\\r\\n")
    ['https://a.example/x']
    """
    found = (re.split(r"\s#", line, maxsplit=1)[0].strip() for line in text.removeprefix("\ufeff").splitlines())
    return [line for line in found if line and not line.startswith("#")]


def _clean_path(path: str) -> str:
    if not path:
        return "/"
    resolved = posixpath.normpath(unquote(path))
    if resolved.startswith("//"):
        resolved = "/" + resolved.lstrip("/")
    if path.endswith("/") and resolved != "/":
        resolved += "/"
    return quote(resolved, safe="/:@!$&'()*+,;=-._~%")


def _clean_query(query: str) -> str:
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not TRACKING_PARAMS.match(k)]
    return urlencode(sorted(pairs))


def check_host(host: str) -> str:
    """A site's host name as rules store it (lower case), or InvalidInput: articles are matched by host
    name alone, so a URL, a port or a path would never match.

    >>> check_host("WWW.Example.com")
    'www.example.com'
    >>> check_host("127.0.0.1:8701")
    Traceback (most recent call last):
    ...
    archive.errors.InvalidInput: bad host '127.0.0.1:8701'; give a host name such as www.example.com (no scheme, port or path)
    """
    name = host.strip().lower().rstrip(".")
    if not HOST_RE.fullmatch(name):
        raise InvalidInput(f"bad host {host!r}; give a host name such as www.example.com (no scheme, port or path)")
    return name


def url_host(url: str) -> str:
    """The host part of a URL key.

    >>> url_host("https://www.example.com:8080/a")
    'www.example.com'
    """
    return urlsplit(url).hostname or ""


ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
                        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
                        "\u2013": "-", "\u2014": "-", "\u2212": "-"})
SPACES = re.compile(r"[^\S\n]+")


def clean_text(text: str) -> str:
    """Tidy extracted text for storage: NFC, LF line ends, one blank line between paragraphs.

    >>> clean_text("  One\\r\\n\\r\\n\\r\\nTwo\\u200b  words ")
    'One\\n\\nTwo words'
    """
    text = unicodedata.normalize("NFC", text).translate(ZERO_WIDTH)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n\n".join(paragraphs(text))


def paragraphs(text: str) -> list[str]:
    """Split text into paragraphs: one per non-empty line, inner whitespace collapsed.

    >>> paragraphs("a  b\\n\\n\\n c\\n")
    ['a b', 'c']
    """
    lines = (SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return [line for line in lines if line]


def comparable(text: str) -> str:
    """The form two strings are compared in: NFKC, no zero-width characters,
    straight quotes and dashes, single spaces, case kept.

    >>> comparable("\\u201cHi\\u201d \\u2014  there\\u200b") == comparable('"Hi" - there')
    True
    """
    if not text.isascii():  # ASCII text is already NFKC and has none of these characters
        text = _TO_COMPARE.sub(_compare_char, unicodedata.normalize("NFKC", text))
    return SPACES.sub(" ", text).strip()


def comparable_map(text: str) -> tuple[str, list[tuple[int, int]]] | None:
    """``comparable(text)`` and, for each of its characters, the ``start:end`` of ``text`` it came from,
    so a place found in the compared form can be cut from the text as captured. None when the text does
    not normalize one character (and its combining marks) at a time.

    >>> shown = "the third \u2014  liquid water"
    >>> found, where = comparable_map(shown)
    >>> found
    'the third - liquid water'
    >>> shown[where[10][0]:where[10][1]], shown[where[11][0]:where[11][1]]
    ('\u2014', '  ')
    """
    out: list[str] = []
    where: list[tuple[int, int]] = []
    starts = [i for i, c in enumerate(text) if i == 0 or not unicodedata.combining(c)]
    for start, end in zip(starts, [*starts[1:], len(text)]):
        piece = text[start:end]
        for char in piece if piece.isascii() else _TO_COMPARE.sub(_compare_char, unicodedata.normalize("NFKC", piece)):
            if char.isspace() and char != "\n":  # as SPACES matches
                if out and out[-1] == " ":
                    where[-1] = (where[-1][0], end)
                    continue
                char = " "
            out.append(char)
            where.append((start, end))
    while out and out[-1] == " ":
        out.pop(), where.pop()
    skip = next((i for i, c in enumerate(out) if c != " "), len(out))
    found = "".join(out[skip:])
    return (found, where[skip:]) if found == comparable(text) else None


# comparable() is called on every paragraph of every capture: one regex pass finds the few characters
# to drop or straighten, where str.translate would look every character up in a dict, twice.
_COMPARE_MAP = {chr(k): "" for k in ZERO_WIDTH} | {chr(k): v for k, v in QUOTES.items()}
_TO_COMPARE = re.compile("[" + "".join(_COMPARE_MAP) + "]")


def _compare_char(match: re.Match[str]) -> str:
    return _COMPARE_MAP[match.group()]


def digest(text: str) -> str:
    """A short stable hash of a comparable string (16 hex digits of sha256).

    >>> digest("a")
    'ca978112ca1bbdca'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def sha256(data: bytes) -> str:
    """Full hex sha256 of bytes."""
    return hashlib.sha256(data).hexdigest()
