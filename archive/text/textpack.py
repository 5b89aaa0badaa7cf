"""Compact storage for text and raw bodies.

A version's text is compressed with zstd using its predecessor's text as a raw
dictionary, so a small edit costs a few hundred bytes. Every ``FULL_EVERY``-th
version is stored whole, so reading any version decompresses a bounded chain.

A raw body is stored the same way against the previous body fetched from its URL
(``compress_body(body, base)``): a re-fetch that differs only by per-request
tokens costs tens of bytes instead of a whole compressed page. A body at depth
``BODY_KEY_EVERY - 1`` of a chain makes the next one a keyframe (stored whole).
"""
from __future__ import annotations

import threading

import zstandard

FULL_EVERY = 64
LEVEL = 19       # deltas: a few hundred bytes each, cheap even at the highest level
FULL_LEVEL = 12  # whole copies (every new article): 0.2% larger than level 19 at a third of the CPU
BODY_LEVEL = 3   # raw HTML: ~6x faster than level 9 for ~5% more bytes, on the crawl's write path
# A body keyframe every 32 captures: a keyframe costs ~15 KB (a median real page), so ~0.5 KB a fetch,
# while decoding the longest chain (31 deltas, ~0.03 ms each) stays near a millisecond (bench: deltas).
BODY_KEY_EVERY = 32


_local = threading.local()  # compressors are not thread-safe; each thread keeps its own


def _compressor(level: int) -> zstandard.ZstdCompressor:
    """This thread's compressor for ``level``: reusing one skips most of level 19's set-up (~3 ms a call)."""
    kept: dict[int, zstandard.ZstdCompressor] = _local.__dict__.setdefault("compressors", {})
    if level not in kept:
        kept[level] = zstandard.ZstdCompressor(level=level)
    return kept[level]


def pack(text: str, base: str | None = None) -> bytes:
    """Compress text, against ``base`` when one is given."""
    data = text.encode("utf-8")
    if base is None:
        return _compressor(FULL_LEVEL).compress(data)
    zdict = zstandard.ZstdCompressionDict(base.encode("utf-8"), dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    return zstandard.ZstdCompressor(level=LEVEL, dict_data=zdict).compress(data)


def unpack(blob: bytes, base: str | None = None) -> str:
    """Inverse of :func:`pack`.

    >>> old = "The treaty came into force on Wednesday. " * 20
    >>> new = old.replace("Wednesday", "Thursday", 1)
    >>> unpack(pack(new, old), old) == new
    True
    >>> len(pack(new, old)) < len(pack(new)) < len(new)
    True
    """
    if base is None:
        return zstandard.ZstdDecompressor().decompress(blob).decode("utf-8")
    zdict = zstandard.ZstdCompressionDict(base.encode("utf-8"), dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    return zstandard.ZstdDecompressor(dict_data=zdict).decompress(blob).decode("utf-8")


def _raw_dict(base: bytes) -> zstandard.ZstdCompressionDict:
    return zstandard.ZstdCompressionDict(base, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def compress_body(body: bytes, base: bytes | None = None) -> bytes:
    """Compress a raw HTTP body for storage, against the ``base`` body when one is given.

    Level 3 either way: with the previous capture as dictionary, level 19 saves a few bytes
    and costs ~80x the CPU on the crawl's write path.
    """
    if base is None:
        return _compressor(BODY_LEVEL).compress(body)
    return zstandard.ZstdCompressor(level=BODY_LEVEL, dict_data=_raw_dict(base)).compress(body)


def decompress_body(blob: bytes, base: bytes | None = None) -> bytes:
    """Inverse of :func:`compress_body`.

    >>> old = b"<html><input name=csrf value=1f2e3d4c5b6a7988>" + b"<p>The treaty came into force.</p>" * 50
    >>> new = old.replace(b"1f2e3d4c5b6a7988", b"99aa88bb77cc66dd")
    >>> decompress_body(compress_body(new, old), old) == new == decompress_body(compress_body(new))
    True
    >>> len(compress_body(new, old)) < 40 < len(compress_body(new))
    True
    """
    if base is None:
        return zstandard.ZstdDecompressor().decompress(blob)
    return zstandard.ZstdDecompressor(dict_data=_raw_dict(base)).decompress(blob)


def decompress_chain(frames: list[bytes]) -> bytes:
    """The last body of a chain: a keyframe, then deltas each stored against the body before it.

    zstd decodes the chain in one call, ~10x faster than one :func:`decompress_body` a link.

    >>> bodies = [b"<p>The treaty came into force.</p>" * 50 + str(n).encode() for n in range(3)]
    >>> frames = [compress_body(bodies[0])] + [compress_body(b, a) for a, b in zip(bodies, bodies[1:])]
    >>> decompress_chain(frames) == bodies[2] and decompress_chain(frames[:1]) == bodies[0]
    True
    """
    return zstandard.ZstdDecompressor().decompress_content_dict_chain(frames)
